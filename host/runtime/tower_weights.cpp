// Uploads of a media tower's weights (see tower_weights.h).
#include "host/runtime/tower_weights.h"

#include "host/device/gpu_context.h"
#include "host/device/weight_source.h"
#include "vk/buffer.h"

namespace vkg {

WeightMatrix UploadTowerMatrix(const WeightSource& source, GpuContext& gpu, vk::BlockAllocator& to, DType format,
                               const std::string& name, uint32_t rows, uint32_t cols) {
  const DType t = IsQuantized(format) && cols % BlockValues(format) ? DType::F32 : format;
  return UploadWeightMatrix(gpu.device(), to, gpu.transfer(), t, rows, cols, source.Rows(name, cols), name);
}

Tensor UploadTowerValues(GpuContext& gpu, vk::BlockAllocator& to, const std::vector<float>& values) {
  const vk::BufferSlice s = to.Allocate(values.size() * 4);
  gpu.transfer().Upload(s, values.data(), values.size() * 4);
  return Tensor{s, DType::F32, 1, uint32_t(values.size())};
}

}  // namespace vkg
