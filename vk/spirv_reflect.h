// What the recorder needs to know about a compute shader, read from its SPIR-V (layer: vk): the
// workgroup size (literal or specialization constants, resolved with the pipeline's values) and
// which descriptor bindings the shader may read (all but `writeonly` buffers).
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace vkg::vk {

struct SpirvLayout {
  // Workgroup size per dimension: the WorkgroupSize built-in if the module declares one (its
  // components may be specialization constants), else the LocalSize execution mode.
  std::array<uint32_t, 3> local_size{1, 1, 1};
  std::array<int32_t, 3> local_size_spec_id{-1, -1, -1};  // SpecId of a component, -1 for a literal
  // Per binding of descriptor set 0 (index = binding): false when every member of its block is
  // NonReadable (GLSL `writeonly`), true otherwise (texel buffers, read-only and read-write buffers).
  std::vector<bool> binding_read;
};

// Parses the module's decorations, constants and execution modes; unknown or malformed input
// yields the defaults (1x1x1, no bindings) rather than an error: the result only feeds profiling.
SpirvLayout ReflectSpirv(std::span<const uint32_t> spirv);

// Invocations per workgroup with the given specialization values applied.
uint32_t InvocationsPerWorkgroup(const SpirvLayout& layout,
                                 const std::vector<std::pair<uint32_t, uint32_t>>& spec_values);

}  // namespace vkg::vk
