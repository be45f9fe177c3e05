// RMSNorm op (layer: host/ops).
#include "host/ops/rms_norm.h"

#include "shaders/params/norm_params.h"
#include "vk/check.h"

namespace vkg {

void RmsNorm(OpContext& ctx, const Tensor& x, const Tensor& w, const Tensor& y, float eps) {
  const bool has_weight = w.slice.buffer != nullptr;
  VKG_CHECK(x.dtype == DType::F32 && y.dtype == DType::F32, "RmsNorm: x and y must be f32");
  VKG_CHECK(x.rows == y.rows && x.cols == y.cols, "RmsNorm: x is [", x.rows, ", ", x.cols, "], y is [",
            y.rows, ", ", y.cols, "]");
  VKG_CHECK(!has_weight || w.elements() == x.cols, "RmsNorm: weight has ", w.elements(),
            " values, rows have ", x.cols);
  using vk::BindingKind;
  const auto& p = ctx.Pipeline(shaders::ShaderId::RmsNorm,
                               {BindingKind::kStorage, BindingKind::kStorage, BindingKind::kStorage},
                               sizeof(shaders::RowParams), vk::SpecConstants().Set(0, kElementwiseWorkgroup));
  const shaders::RowParams params{x.rows, x.cols, eps, has_weight ? 1u : 0u};
  const vk::Binding b[] = {Bind(x), Bind(has_weight ? w : x), Bind(y)};
  const Grid g = Grid1D(x.rows);
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

void ResidualRmsNorm(OpContext& ctx, const Tensor& x, const Tensor& y, const Tensor& w_out, float scale,
                     const Tensor& w_next, const Tensor& a, float eps) {
  const bool has_next = w_next.slice.buffer != nullptr;
  VKG_CHECK(x.dtype == DType::F32 && y.dtype == DType::F32, "ResidualRmsNorm: x and y must be f32");
  VKG_CHECK(x.rows == y.rows && x.cols == y.cols, "ResidualRmsNorm: x is [", x.rows, ", ", x.cols, "], y is [",
            y.rows, ", ", y.cols, "]");
  VKG_CHECK(w_out.elements() == x.cols, "ResidualRmsNorm: output norm has ", w_out.elements(),
            " values, rows have ", x.cols);
  VKG_CHECK(!has_next || (w_next.elements() == x.cols && a.dtype == DType::F32 && a.rows == x.rows && a.cols == x.cols),
            "ResidualRmsNorm: next norm or its output does not match rows of ", x.cols);
  using vk::BindingKind;
  const BindingKind S = BindingKind::kStorage;
  const auto& p = ctx.Pipeline(shaders::ShaderId::ResidualNorm, {S, S, S, S, S}, sizeof(shaders::ResidualNormParams),
                               vk::SpecConstants().Set(0, kElementwiseWorkgroup));
  shaders::ResidualNormParams params{};
  params.rows = x.rows;
  params.dim = x.cols;
  params.eps = eps;
  params.scale = scale;
  params.has_next = has_next ? 1u : 0u;
  // Without a next norm, w_out and x stand in for the unused bindings (never accessed).
  const vk::Binding b[] = {Bind(x), Bind(y), Bind(w_out), Bind(has_next ? w_next : w_out), Bind(has_next ? a : x)};
  const Grid g = Grid1D(x.rows);
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

}  // namespace vkg
