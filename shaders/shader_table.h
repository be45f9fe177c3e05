// The embedded SPIR-V of every shader variant, by ShaderId (layer: shaders, data only).
// The enum is generated from the vkg_add_shader list in shaders/CMakeLists.txt; the per-format
// kernel families (vkg_add_weight_shaders, shaders/weight_formats.cmake) also by (family, format).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace vkg::shaders {

enum class ShaderId : uint32_t {
#include "shader_id.inc"
  kCount
};

// WeightKernel (the families of VKG_WEIGHT_KERNELS) and their names kWeightKernelNames, kWeightFormatNames (VKG_WEIGHT_FORMATS: the
// shader suffix of format i, in DType order) and kWeightShaders.
#include "weight_shader.inc"

// The variant of kernel family `kernel` for weight format `format_index` (the DType's value;
// host/formats/format_traits.h checks the order at compile time); nullopt where it is not built
// (Coopmat for F32, the int8 families beyond Q8_0/Q4_0, a family the compiler cannot build).
constexpr std::optional<ShaderId> WeightShader(WeightKernel kernel, uint32_t format_index) {
  if (uint32_t(kernel) >= kWeightShaders.size() || format_index >= kWeightFormatNames.size()) return std::nullopt;
  return kWeightShaders[uint32_t(kernel)][format_index];
}

std::span<const uint32_t> Spirv(ShaderId id);
const char* Name(ShaderId id);

}  // namespace vkg::shaders
