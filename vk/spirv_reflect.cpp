// Minimal SPIR-V reflection: workgroup size and read bindings (layer: vk). Walks the instruction
// stream once (word 0 of each instruction: word count << 16 | opcode; SPIR-V spec section 2.3).
#include "vk/spirv_reflect.h"

#include <map>
#include <set>

namespace vkg::vk {
namespace {

// Opcodes and enumerants used (SPIR-V 1.x unified spec).
constexpr uint32_t kOpExecutionMode = 16, kOpTypePointer = 32, kOpConstant = 43, kOpConstantComposite = 44,
                   kOpSpecConstant = 50, kOpSpecConstantComposite = 51, kOpVariable = 59, kOpDecorate = 71,
                   kOpMemberDecorate = 72, kOpExecutionModeId = 331;
constexpr uint32_t kModeLocalSize = 17, kModeLocalSizeId = 38;
constexpr uint32_t kDecSpecId = 1, kDecBuiltIn = 11, kDecNonReadable = 25, kDecBinding = 33, kDecDescriptorSet = 34;
constexpr uint32_t kBuiltInWorkgroupSize = 25;

}  // namespace

SpirvLayout ReflectSpirv(std::span<const uint32_t> spirv) {
  SpirvLayout out;
  if (spirv.size() < 5 || spirv[0] != 0x07230203u) return out;
  std::map<uint32_t, uint32_t> spec_id, binding, set, constant, pointee, var_type;
  std::map<uint32_t, std::vector<uint32_t>> composite;
  std::map<uint32_t, std::set<uint32_t>> non_readable_members;  // struct id -> members
  std::set<uint32_t> non_readable_ids;
  uint32_t workgroup_size_id = 0;
  std::array<uint32_t, 3> mode_literal{1, 1, 1}, mode_ids{0, 0, 0};
  for (size_t i = 5; i < spirv.size();) {
    const uint32_t words = spirv[i] >> 16, op = spirv[i] & 0xffffu;
    if (words == 0 || i + words > spirv.size()) return SpirvLayout{};
    const uint32_t* w = &spirv[i];
    switch (op) {
      case kOpDecorate:
        if (words >= 4 && w[2] == kDecSpecId) spec_id[w[1]] = w[3];
        if (words >= 4 && w[2] == kDecBinding) binding[w[1]] = w[3];
        if (words >= 4 && w[2] == kDecDescriptorSet) set[w[1]] = w[3];
        if (words >= 4 && w[2] == kDecBuiltIn && w[3] == kBuiltInWorkgroupSize) workgroup_size_id = w[1];
        if (words >= 3 && w[2] == kDecNonReadable) non_readable_ids.insert(w[1]);
        break;
      case kOpMemberDecorate:
        if (words >= 4 && w[3] == kDecNonReadable) non_readable_members[w[1]].insert(w[2]);
        break;
      case kOpExecutionMode:
      case kOpExecutionModeId:
        if (words >= 6 && (w[2] == kModeLocalSize || w[2] == kModeLocalSizeId)) {
          for (int d = 0; d < 3; ++d) (w[2] == kModeLocalSize ? mode_literal : mode_ids)[d] = w[3 + d];
        }
        break;
      case kOpConstant:
      case kOpSpecConstant:
        if (words >= 4) constant[w[2]] = w[3];
        break;
      case kOpConstantComposite:
      case kOpSpecConstantComposite:
        if (words >= 3) composite[w[2]].assign(w + 3, w + words);
        break;
      case kOpTypePointer:
        if (words >= 4) pointee[w[1]] = w[3];
        break;
      case kOpVariable:
        if (words >= 4) var_type[w[2]] = w[1];
        break;
      default: break;
    }
    i += words;
  }

  // Workgroup size: the built-in overrides the execution mode (SPIR-V spec, WorkgroupSize).
  std::array<uint32_t, 3> ids = mode_ids;
  if (workgroup_size_id && composite.count(workgroup_size_id) && composite[workgroup_size_id].size() == 3) {
    for (int d = 0; d < 3; ++d) ids[d] = composite[workgroup_size_id][d];
  } else if (!ids[0]) {
    out.local_size = mode_literal;
  }
  if (ids[0]) {
    for (int d = 0; d < 3; ++d) {
      out.local_size[d] = constant.count(ids[d]) ? constant[ids[d]] : 1;
      if (spec_id.count(ids[d])) out.local_size_spec_id[d] = int32_t(spec_id[ids[d]]);
    }
  }

  // Bindings of set 0.
  for (const auto& [var, b] : binding) {
    if (set.count(var) && set[var] != 0) continue;
    if (b >= 64) continue;  // no vkgemma shader comes near; guards the vector size
    if (out.binding_read.size() <= b) out.binding_read.resize(b + 1, true);
    bool read = !non_readable_ids.count(var);
    if (read && var_type.count(var) && pointee.count(var_type[var])) {
      const uint32_t block = pointee[var_type[var]];
      // A block is write-only when its members are all NonReadable (glslang decorates each one).
      if (non_readable_members.count(block) && !non_readable_members[block].empty()) read = false;
    }
    out.binding_read[b] = read;
  }
  return out;
}

uint32_t InvocationsPerWorkgroup(const SpirvLayout& layout,
                                 const std::vector<std::pair<uint32_t, uint32_t>>& spec_values) {
  uint32_t n = 1;
  for (int d = 0; d < 3; ++d) {
    uint32_t v = layout.local_size[d];
    for (const auto& [id, value] : spec_values) {
      if (layout.local_size_spec_id[d] >= 0 && id == uint32_t(layout.local_size_spec_id[d])) v = value;
    }
    n *= v;
  }
  return n;
}

}  // namespace vkg::vk
