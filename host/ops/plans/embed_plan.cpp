// Embedding gather launch plan (layer: host/ops).
#include "host/ops/plans/embed_plan.h"

#include "host/device/weight_matrix.h"

namespace vkg {
namespace {

// Values per unit of embed_rows.comp's work: one 16-byte texel as stored, or for K-quants one
// 32-value logical texel (a sub-block: its nibble texel plus high bits and scales; weight_texel.glsl).
uint32_t ValuesPerTexel(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F16:
    case DType::BF16: return 8;
    case DType::Q8_0: return 16;
    case DType::Q4_0:
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K:
    case DType::Q2_K:
    case DType::Q3_K:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1: return 32;
  }
  return 1;
}

}  // namespace

EmbedPlan PlanEmbed(bool gpu_family, DType t, uint32_t dim, uint32_t cols_padded, uint32_t n_tokens) {
  EmbedPlan p;
  p.row_texels = cols_padded / ValuesPerTexel(t);
  p.rows = gpu_family && dim % 4 == 0 && n_tokens <= 65535;
  p.grid = p.rows ? Grid{uint32_t(DivUp(p.row_texels, kElementwiseWorkgroup)), n_tokens}
                  : Grid1D(DivUp(uint64_t(n_tokens) * dim, kElementwiseWorkgroup));
  return p;
}

}  // namespace vkg
