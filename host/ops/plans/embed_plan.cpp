// Embedding gather launch plan (layer: host/ops).
#include "host/ops/plans/embed_plan.h"

#include "host/device/weight_matrix.h"
#include "host/formats/format_traits.h"

namespace vkg {

EmbedPlan PlanEmbed(bool gpu_family, DType t, uint32_t dim, uint32_t cols_padded, uint32_t n_tokens) {
  EmbedPlan p;
  p.row_texels = cols_padded / Format(t).texel_values;
  p.rows = gpu_family && dim % 4 == 0 && n_tokens <= 65535;
  p.grid = p.rows ? Grid{uint32_t(DivUp(p.row_texels, kElementwiseWorkgroup)), n_tokens}
                  : Grid1D(DivUp(uint64_t(n_tokens) * dim, kElementwiseWorkgroup));
  return p;
}

}  // namespace vkg
