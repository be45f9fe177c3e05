// Per-layer-embedding combine op (layer: host/ops).
#include "host/ops/ple.h"

#include "host/ops/plans/row_plan.h"
#include "shaders/params/ple_params.h"
#include "vk/check.h"

namespace vkg {

void PleCombine(OpContext& ctx, const Tensor& ctx_rows, const Tensor& tok, const Tensor& ple,
                const PleCombineShape& shape) {
  const uint32_t n_tokens = shape.n_tokens, n_layers = shape.n_layers, ple_rows = shape.ple_rows;
  const float scale = shape.scale;
  const uint32_t P = ple.cols;
  VKG_CHECK(n_tokens <= ple_rows && ple.rows >= n_layers * ple_rows, "PleCombine: ple holds ", ple.rows, " rows, need ",
            n_layers, " x ", ple_rows);
  for (const Tensor* t : {&ctx_rows, &tok}) {
    VKG_CHECK(t->rows >= n_tokens && t->cols == n_layers * P, "PleCombine: an input is [", t->rows, ", ", t->cols,
              "], need [", n_tokens, ", ", n_layers * P, "]");
  }
  const auto S = vk::BindingKind::kStorage;
  // GPUs: 4 values per invocation with 16-byte loads (ple_combine.comp VEC4) where aligned.
  const bool vec4 = !UseCpuKernels(ctx) && P % 4 == 0 && ple.slice.offset % 16 == 0 && tok.slice.offset % 16 == 0 &&
                    ctx_rows.slice.offset % 16 == 0;
  const auto& p = ctx.Pipeline(vec4 ? shaders::ShaderId::PleCombineVec4 : shaders::ShaderId::PleCombine, {S, S, S},
                               sizeof(shaders::PleParams), vk::SpecConstants().Set(0, kElementwiseWorkgroup));
  const shaders::PleParams params{n_tokens, n_layers, P, ple_rows, scale};
  const vk::Binding b[] = {Bind(ple), Bind(tok), Bind(ctx_rows)};
  const uint64_t n = uint64_t(n_layers) * n_tokens * P;
  const Grid g = Grid1D(DivUp(vec4 ? n / 4 : n, kElementwiseWorkgroup));
  ctx.rec.SetDispatchBytes(n * 2 * 4);  // ctx and tok
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

void PleNormCombine(OpContext& ctx, const Tensor& ctx_rows, const Tensor& norm, const Tensor& tok, const Tensor& ple,
                    const PleCombineShape& shape, float eps) {
  const uint32_t n_tokens = shape.n_tokens, n_layers = shape.n_layers, ple_rows = shape.ple_rows;
  const float scale = shape.scale;
  const uint32_t P = ple.cols;
  VKG_CHECK(n_tokens <= ple_rows && ple.rows >= n_layers * ple_rows, "PleNormCombine: ple holds ", ple.rows,
            " rows, need ", n_layers, " x ", ple_rows);
  for (const Tensor* t : {&ctx_rows, &tok}) {
    VKG_CHECK(t->rows >= n_tokens && t->cols == n_layers * P, "PleNormCombine: an input is [", t->rows, ", ", t->cols,
              "], need [", n_tokens, ", ", n_layers * P, "]");
  }
  VKG_CHECK(norm.elements() == P, "PleNormCombine: the norm has ", norm.elements(), " values, slices have ", P);
  const RowPlan plan = PlanRow(P, {&ctx_rows, &norm, &tok, &ple});
  VKG_CHECK(plan.fits(), "PleNormCombine: slices of ", P, " values exceed the kernel's registers");
  const auto S = vk::BindingKind::kStorage;
  const auto& p =
      ctx.Pipeline(plan.vec4 ? shaders::ShaderId::PleNormCombineVec4 : shaders::ShaderId::PleNormCombine, {S, S, S, S},
                   sizeof(shaders::PleNormParams), vk::SpecConstants().Set(0, plan.workgroup).Set(1, plan.per));
  const shaders::PleNormParams params{n_tokens, n_layers, P, ple_rows, scale, eps};
  const vk::Binding b[] = {Bind(ple), Bind(tok), Bind(ctx_rows), Bind(norm)};
  const Grid g = Grid1D(uint64_t(n_tokens) * n_layers);
  ctx.rec.SetDispatchBytes((uint64_t(n_tokens) * n_layers * P * 2 + P) * 4);  // ctx, tok, the norm
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

}  // namespace vkg
