// Weight matrices on the device in compute format, converted while uploading (layer: host/device).
//
// Device layout (our own; every row padded with zeros to cols_padded = roundup(cols, 32), for the
// K-quants roundup(cols, 256)):
//   f32 / f16 / bf16: data = [rows][cols_padded] elements, packed little-endian;
//   q8_0: data = [rows][cols_padded] int8 quants, scales = [rows][cols_padded/32] f16;
//   q4_0: data = [rows][cols_padded/2] bytes, value i of a block in nibble i (low nibble first),
//         stored as q + 8; scales = [rows][cols_padded/32] f16.
//   K-quants (ggml's super-blocks of 256 values, host/formats/kquant_blocks.h; every number is the
//   file's, only moved): per super-block, data = 8 texels of the codes' low 4 bits (32 values per
//   texel, value i in nibble i: q4_0's texel, so every kernel's q4_0 unpacking serves), then
//     q4_k: nothing more (8 texels, 128 bytes); scales = one head texel per super-block: ggml's
//           first 16 bytes (f16 d, f16 dmin, 12 bytes of packed 6-bit scales and mins);
//     q5_k: 2 texels of bit 4 (one u32 per 32 values, value i at bit i): 10 texels, 160 bytes;
//           scales = the head texel as q4_k (176 bytes per super-block in all, ggml's size);
//     q6_k: 4 texels of bits 4-5 (one u64 per 32 values, value i at bits 2i..2i+1) and 1 texel of
//           the 16 int8 sub-block scales: 13 texels, 208 bytes; scales = [rows][cols_padded/256]
//           f16 d, packed as q8_0's scales (210 bytes per super-block, ggml's size).
//   ggml's other block formats (host/formats/ggml_small_blocks.h; every number the file's, only moved):
//     q4_1: data = one texel per block of 32: the nibbles, value i in nibble i (q4_0's texel);
//           scales = [rows][cols_padded/32] entries of 4 bytes: f16 d, f16 m (20 bytes a block);
//     q5_0 / q5_1: data as q4_1 (bits 0-3); scales = entries of 8 bytes: f16 d, f16 m (q5_0: 0),
//           u32 qh (bit i: bit 4 of value i) (24 bytes a block; ggml's q5_0 has 22);
//     q2_k: per super-block of 256, data = 4 texels of 2-bit codes (one u64 per 32 values, value i
//           at bits 2i..2i+1), then 1 texel of ggml's 16 scale|min bytes as stored: 5 texels, 80
//           bytes; scales = [rows][cols_padded/256] entries of 4 bytes: f16 d, f16 dmin (84 bytes,
//           ggml's size);
//     q3_k: data = 4 texels of the 2-bit low codes (as q2_k), 2 texels of the high bits (one u32 per
//           32 values, value i at bit i), 1 texel of ggml's 12 packed 6-bit scales as stored and 4
//           zero bytes: 7 texels, 112 bytes; scales = f16 d per super-block, packed as q8_0's
//           (114 bytes per super-block; ggml's 110).
//   Why not ggml's bytes unchanged: ggml's Q4_K texel holds two runs of 16 values 32 apart and
//   Q6_K's 210-byte block is no whole number of texels; with 32 contiguous values per texel every
//   product kernel keeps one texel = 32 values, one x load pattern, and one sub-block per texel
//   (Q6_K: two of 16), its scale (and min) from a head texel that 8 neighbouring lanes share.
//   The same holds for q4_1..q5_1 (ggml's nibbles hold values j and j + 16) and q2_k / q3_k (a
//   ggml code byte holds 4 values 32 apart; their odd sizes are no whole number of texels). Q2_K's
//   two mins per texel leave no single bias per texel: its kernels decode the values themselves.
// All are read through RGBA32UI texel views (16 bytes per texel: one q4_0 block, two q8_0
// blocks, 8 f16/bf16 or 4 f32 values). A matrix bigger than one view allows is split by rows
// into chunks, each with its own views; ops dispatch once per chunk.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "host/formats/dtype.h"
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
  std::unique_ptr<vk::TexelView> scales;  // quantized types only
};

struct WeightMatrix {
  std::string name;
  DType dtype = DType::F32;
  uint32_t rows = 0;         // N (output features, or vocabulary rows of an embedding)
  uint32_t cols = 0;         // K (input features)
  uint32_t cols_padded = 0;  // K rounded up to 32 (K-quants: 256)
  std::vector<WeightChunk> chunks;
  uint64_t device_bytes = 0;
  // A stack of tensors of different types (a GGUF Q4_K_M layer's attn_q and attn_k in Q4_K with
  // attn_v in Q6_K): one matrix per run of equal type, in row order, and no chunks of its own. Each
  // part has the stack's `rows` (the output width it writes into) but chunks only over its own rows
  // (row_begin counted in the stack), so a product runs once per part into the same output. dtype
  // and cols_padded are the first part's. Empty for a matrix of one type.
  std::vector<WeightMatrix> parts;
};

// Produces row `row` of the source matrix as `cols` floats (from a checkpoint, or random data).
using RowSource = std::function<void(uint32_t row, float* out)>;
// Produces row `row` as ggml's blocks of a quantized type (q8_0, q4_0 or an IsGgmlBlock type;
// DTypeBytes(dtype, cols) bytes): a GGUF file's blocks, uploaded as stored (bits moved, never
// re-quantized).
using RawRowSource = std::function<void(uint32_t row, uint8_t* out)>;

// Bytes one row occupies in the data view, and in the scales view (0 unless quantized).
uint64_t WeightRowBytes(DType dtype, uint32_t cols_padded);
uint64_t WeightScaleRowBytes(DType dtype, uint32_t cols_padded);
// The kernels' row_scales: scale entries per row (q8_0 / q4_0: blocks of 32; K-quants: super-blocks).
uint32_t WeightRowScales(DType dtype, uint32_t cols_padded);

// Converts and uploads a [rows][cols] matrix. max_chunk_bytes caps the data bytes of one chunk
// (0: the device's limits: texel-view elements and maximum allocation); tests lower it to
// exercise the split path on small matrices.
WeightMatrix UploadWeightMatrix(const vk::Device& device, vk::BlockAllocator& alloc, vk::Transfer& transfer,
                                DType dtype, uint32_t rows, uint32_t cols, const RowSource& source,
                                const std::string& name, uint64_t max_chunk_bytes = 0,
                                const RawRowSource& raw = nullptr);

// Stacks matrices of equal cols (in any types) row-wise, in order, into one whose parts they
// become (WeightMatrix::parts); a single matrix is returned as it is.
WeightMatrix StackMatrices(std::vector<WeightMatrix> matrices);

// The values the device holds for a row (after rounding/quantization), for references.
std::vector<float> DeviceRowValues(DType dtype, const float* row, uint32_t cols);

}  // namespace vkg
