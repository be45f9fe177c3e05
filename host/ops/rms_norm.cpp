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

}  // namespace vkg
