// Per-layer-embedding combine op (layer: host/ops).
#include "host/ops/ple.h"

#include "shaders/params/ple_params.h"
#include "vk/check.h"

namespace vkg {

void PleCombine(OpContext& ctx, const Tensor& ctx_rows, const Tensor& tok, const Tensor& ple, uint32_t n_tokens,
                uint32_t n_layers, uint32_t ple_rows, float scale) {
  const uint32_t P = ple.cols;
  VKG_CHECK(n_tokens <= ple_rows && ple.rows >= n_layers * ple_rows, "PleCombine: ple holds ", ple.rows,
            " rows, need ", n_layers, " x ", ple_rows);
  for (const Tensor* t : {&ctx_rows, &tok}) {
    VKG_CHECK(t->rows >= n_tokens && t->cols == n_layers * P, "PleCombine: an input is [", t->rows, ", ", t->cols,
              "], need [", n_tokens, ", ", n_layers * P, "]");
  }
  const auto S = vk::BindingKind::kStorage;
  const auto& p = ctx.Pipeline(shaders::ShaderId::PleCombine, {S, S, S}, sizeof(shaders::PleParams),
                               vk::SpecConstants().Set(0, kElementwiseWorkgroup));
  const shaders::PleParams params{n_tokens, n_layers, P, ple_rows, scale};
  const vk::Binding b[] = {Bind(ple), Bind(tok), Bind(ctx_rows)};
  const Grid g = Grid1D(DivUp(uint64_t(n_layers) * n_tokens * P, kElementwiseWorkgroup));
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

}  // namespace vkg
