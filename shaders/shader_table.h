// The embedded SPIR-V of every shader variant, by ShaderId (layer: shaders, data only).
// The enum is generated from the vkg_add_shader list in shaders/CMakeLists.txt.
#pragma once
#include <cstdint>
#include <span>

namespace vkg::shaders {

enum class ShaderId : uint32_t {
#include "shader_id.inc"
  kCount
};

std::span<const uint32_t> Spirv(ShaderId id);
const char* Name(ShaderId id);

}  // namespace vkg::shaders
