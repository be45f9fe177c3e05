// Uploads of a media tower's weights (the vision tower, the audio conformer, the unified model's
// embedders) into the tower's own device allocator (layer: host/runtime). One place decides how a
// tower matrix is stored, so the three towers cannot drift apart.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "host/device/tensor.h"
#include "host/device/weight_matrix.h"
#include "host/formats/dtype.h"

namespace vkg {

class GpuContext;
class WeightSource;
namespace vk {
class BlockAllocator;
}

// The matrix `name` [rows][cols] in the compute format `format`, or f32 when a row is not whole
// blocks of a block format (f32 holds the stored values exactly; the product kernels need whole
// blocks per row).
WeightMatrix UploadTowerMatrix(const WeightSource& source, GpuContext& gpu, vk::BlockAllocator& to, DType format,
                               const std::string& name, uint32_t rows, uint32_t cols);

// `values` as a [1][n] f32 tensor (norm weights, biases, bounds the kernels read).
Tensor UploadTowerValues(GpuContext& gpu, vk::BlockAllocator& to, const std::vector<float>& values);

}  // namespace vkg
