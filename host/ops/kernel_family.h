// Which kernel variants an engine runs (layer: host/ops), without Vulkan: the public engine header
// (host/runtime/engine.h) and the CLI name them; op_context.h applies them to a device.
#pragma once

namespace vkg {

// Which kernel variants the matrix products pick where a device kind has its own (host/ops/
// matmul.cpp): the device's (CPU devices get the CPU-tuned ones), or one family forced, so that
// tests run the GPU kernels end to end on lavapipe.
enum class KernelFamily { kDevice, kGpu, kCpu };

// Optional hardware paths inside the GPU kernel family. kAuto takes a path where the device
// accelerates it (DeviceCaps::integer_dot_product, ::cooperative_matrix); kOff never; kForce
// wherever the device supports the feature at all, accelerated or not (tests run the integer-dot
// kernels on lavapipe that way). A path the device or the shader compiler lacks is never taken.
enum class FeatureUse { kAuto, kOff, kForce };
struct KernelFeatures {
  FeatureUse integer_dot = FeatureUse::kAuto;         // int8-activation q8_0/q4_0 products
  FeatureUse cooperative_matrix = FeatureUse::kAuto;  // matrix-unit prefill products and attention
  // Tests: the matrix-unit prefill products on emulated fragments (shaders/common/
  // coopmat_fragment.glsl) wherever the GPU kernel family runs, matrix units or not, so whole
  // models exercise that kernel on lavapipe. Never set for speed; ignored when cooperative_matrix is kOff.
  bool emulate_cooperative_matrix = false;
};

}  // namespace vkg
