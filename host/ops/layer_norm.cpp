// LayerNorm op (layer: host/ops).
#include "host/ops/layer_norm.h"

#include "shaders/params/norm_params.h"
#include "vk/check.h"

namespace vkg {

void LayerNorm(OpContext& ctx, const Tensor& x, const Tensor& add, const Tensor& w, const Tensor& b, const Tensor& y,
               float eps) {
  const bool has_add = add.slice.buffer != nullptr;
  VKG_CHECK(x.dtype == DType::F32 && y.dtype == DType::F32, "LayerNorm: x and y must be f32");
  VKG_CHECK(x.rows == y.rows && x.cols == y.cols, "LayerNorm: x is [", x.rows, ", ", x.cols, "], y is [", y.rows, ", ",
            y.cols, "]");
  VKG_CHECK(!has_add || add.elements() == x.elements(), "LayerNorm: add has ", add.elements(), " values, x ",
            x.elements());
  VKG_CHECK(w.elements() == x.cols && b.elements() == x.cols, "LayerNorm: weight / bias have ", w.elements(), " / ",
            b.elements(), " values, rows have ", x.cols);
  constexpr uint32_t kWorkgroup = 256;
  const vk::BindingKind S = vk::BindingKind::kStorage;
  const shaders::LayerNormParams params{x.rows, x.cols, eps, has_add ? 1u : 0u};
  const vk::Binding bindings[] = {Bind(x), Bind(has_add ? add : x), Bind(w), Bind(b), Bind(y)};
  const auto& p = ctx.Pipeline(shaders::ShaderId::LayerNorm, {S, S, S, S, S}, sizeof(params),
                               vk::SpecConstants().Set(0, kWorkgroup));
  const Grid g = Grid1D(x.rows);
  ctx.rec.SetDispatchBytes((x.elements() * (has_add ? 2 : 1) + 2ull * x.cols) * 4);
  ctx.rec.Dispatch(p, bindings, params, g.x, g.y);
}

}  // namespace vkg
