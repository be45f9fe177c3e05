// The shader variant of a per-format kernel family for a weight format (layer: host/ops): a lookup
// in the table generated from shaders/weight_formats.cmake (shaders::WeightShader), indexed by the
// DType; the format table (host/formats/format_traits.h) and the shaders' format list are checked
// to agree here, at compile time.
#pragma once
#include <string>

#include "host/formats/format_traits.h"
#include "shaders/shader_table.h"
#include "vk/check.h"

namespace vkg {

consteval bool ShaderFormatsMatchFormatTable() {
  if (shaders::kWeightFormatNames.size() != kFormats.size()) return false;
  for (size_t i = 0; i < kFormats.size(); ++i) {
    if (shaders::kWeightFormatNames[i] != kFormats[i].shader_suffix) return false;
  }
  return true;
}
static_assert(ShaderFormatsMatchFormatTable(),
              "VKG_WEIGHT_FORMATS (shaders/weight_formats.cmake) must list kFormats' shader_suffix "
              "(host/formats/format_traits.h) in DType order");

// The variant of `kernel` for weights of type t; nullopt where it is not built.
inline std::optional<shaders::ShaderId> FindWeightShader(shaders::WeightKernel kernel, DType t) {
  return shaders::WeightShader(kernel, uint32_t(t));
}

// The same, throwing "<op>: no <kernel> kernel for <t> weights" where it is not built.
inline shaders::ShaderId WeightShaderFor(shaders::WeightKernel kernel, DType t, const std::string& op) {
  if (const auto id = FindWeightShader(kernel, t)) return *id;
  throw vk::Error(op + ": this build has no kernel of family " + std::to_string(uint32_t(kernel)) + " for " +
                  std::string(DTypeName(t)) + " weights");
}

}  // namespace vkg
