// Embedding gather launch plan (layer: host/ops).
#include "host/ops/embed_plan.h"

#include "host/weight_matrix.h"

namespace vkg {

EmbedPlan PlanEmbed(bool gpu_family, DType t, uint32_t dim, uint32_t cols_padded, uint32_t n_tokens) {
  EmbedPlan p;
  p.row_texels = uint32_t(WeightRowBytes(t, cols_padded) / 16);
  p.rows = gpu_family && dim % 4 == 0 && n_tokens <= 65535;
  p.grid = p.rows ? Grid{uint32_t(DivUp(p.row_texels, kElementwiseWorkgroup)), n_tokens}
                  : Grid1D(DivUp(uint64_t(n_tokens) * dim, kElementwiseWorkgroup));
  return p;
}

}  // namespace vkg
