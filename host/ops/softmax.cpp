// Row softmax op (layer: host/ops).
#include "host/ops/softmax.h"

#include "shaders/params/norm_params.h"
#include "vk/check.h"

namespace vkg {

void Softmax(OpContext& ctx, const Tensor& x) {
  VKG_CHECK(x.dtype == DType::F32 && x.cols > 0, "Softmax: x must be f32 with columns");
  const auto& p = ctx.Pipeline(shaders::ShaderId::Softmax, {vk::BindingKind::kStorage}, sizeof(shaders::RowParams),
                               vk::SpecConstants().Set(0, kElementwiseWorkgroup));
  const shaders::RowParams params{x.rows, x.cols, 0.f, 0u};
  const vk::Binding b[] = {Bind(x)};
  const Grid g = Grid1D(x.rows);
  ctx.rec.SetDispatchBytes(x.elements() * 4);  // each value counted once (the kernel re-reads it)
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

}  // namespace vkg
