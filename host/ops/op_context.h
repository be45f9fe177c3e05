// What every op needs to record a dispatch (layer: host/ops).
#pragma once
#include <cstdint>
#include <initializer_list>
#include <span>

#include "host/device/tensor.h"
#include "host/ops/kernel_family.h"
#include "shaders/shader_table.h"
#include "vk/command.h"
#include "vk/device.h"
#include "vk/pipeline.h"

namespace vkg {

// True where the GPU kernel family runs on a device: every device that is not a CPU, unless a
// family is forced (the rule OpContext::GpuKernels applies; tools describe it without a device).
inline bool GpuFamily(const vk::DeviceCaps& caps, KernelFamily kernels) {
  return kernels == KernelFamily::kDevice ? caps.type != VK_PHYSICAL_DEVICE_TYPE_CPU : kernels == KernelFamily::kGpu;
}

struct OpContext {
  const vk::Device& device;
  vk::PipelineCache& pipelines;
  vk::Recorder& rec;
  KernelFamily kernels = KernelFamily::kDevice;
  KernelFeatures features;

  // True where the GPU kernel family runs: on every device that is not a CPU, or when forced.
  bool GpuKernels() const { return GpuFamily(device.caps(), kernels); }

  // The pipeline of a shader variant with the given bindings, push size and spec constants.
  const vk::ComputePipeline& Pipeline(shaders::ShaderId id, std::initializer_list<vk::BindingKind> bindings,
                                      uint32_t push_bytes, vk::SpecConstants spec = {}) const {
    return pipelines.Get({shaders::Spirv(id), shaders::Name(id), bindings, push_bytes, std::move(spec)});
  }
};

// True where the CPU-device kernels run (lavapipe by default, or KernelFamily::kCpu forced).
inline bool UseCpuKernels(const OpContext& ctx) {
  return ctx.kernels == KernelFamily::kDevice ? ctx.device.caps().type == VK_PHYSICAL_DEVICE_TYPE_CPU
                                              : ctx.kernels == KernelFamily::kCpu;
}

// Workgroup grid covering `groups` workgroups within the 65535-per-dimension guarantee: x first,
// the rest in y. Shaders index linear work as gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x.
struct Grid {
  uint32_t x = 1, y = 1;
};
inline Grid Grid1D(uint64_t groups) {
  constexpr uint64_t kMax = 65535;
  if (groups <= kMax) return {uint32_t(groups ? groups : 1), 1};
  return {uint32_t(kMax), uint32_t((groups + kMax - 1) / kMax)};
}
inline uint64_t DivUp(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

inline vk::Binding Bind(const Tensor& t) { return vk::Binding::Storage(t.slice); }

// Workgroup size of the simple elementwise and row shaders (spec constant 0).
inline constexpr uint32_t kElementwiseWorkgroup = 64;

}  // namespace vkg
