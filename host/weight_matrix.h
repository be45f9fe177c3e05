// Weight matrices on the device in compute format, converted while uploading (layer: host).
//
// Device layout (our own; every row padded with zeros to cols_padded = roundup(cols, 32)):
//   f32 / f16 / bf16: data = [rows][cols_padded] elements, packed little-endian;
//   q8_0: data = [rows][cols_padded] int8 quants, scales = [rows][cols_padded/32] f16;
//   q4_0: data = [rows][cols_padded/2] bytes, value i of a block in nibble i (low nibble first),
//         stored as q + 8; scales = [rows][cols_padded/32] f16.
// Both are read through RGBA32UI texel views (16 bytes per texel: one q4_0 block, two q8_0
// blocks, 8 f16/bf16 or 4 f32 values). A matrix bigger than one view allows is split by rows
// into chunks, each with its own views; ops dispatch once per chunk.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "host/model/dtype.h"
#include "vk/buffer.h"

namespace vkg::vk {
class Device;
class Transfer;
}  // namespace vkg::vk

namespace vkg {

struct WeightChunk {
  uint32_t row_begin = 0;
  uint32_t rows = 0;
  std::unique_ptr<vk::TexelView> data;
  std::unique_ptr<vk::TexelView> scales;  // q8_0 / q4_0 only
};

struct WeightMatrix {
  std::string name;
  DType dtype = DType::F32;
  uint32_t rows = 0;         // N (output features, or vocabulary rows of an embedding)
  uint32_t cols = 0;         // K (input features)
  uint32_t cols_padded = 0;  // K rounded up to 32
  std::vector<WeightChunk> chunks;
  uint64_t device_bytes = 0;
};

// Produces row `row` of the source matrix as `cols` floats (from a checkpoint, or random data).
using RowSource = std::function<void(uint32_t row, float* out)>;

// Bytes one row occupies in the data view.
uint64_t WeightRowBytes(DType dtype, uint32_t cols_padded);

// Converts and uploads a [rows][cols] matrix. max_chunk_bytes caps the data bytes of one chunk
// (0: the device's limits: texel-view elements and maximum allocation); tests lower it to
// exercise the split path on small matrices.
WeightMatrix UploadWeightMatrix(const vk::Device& device, vk::BlockAllocator& alloc,
                                vk::Transfer& transfer, DType dtype, uint32_t rows, uint32_t cols,
                                const RowSource& source, const std::string& name,
                                uint64_t max_chunk_bytes = 0);

// The values the device holds for a row (after rounding/quantization), for references.
std::vector<float> DeviceRowValues(DType dtype, const float* row, uint32_t cols);

}  // namespace vkg
