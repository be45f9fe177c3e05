// Fill op (layer: host/ops).
#include "host/ops/fill.h"

#include "shaders/params/fill_params.h"
#include "vk/check.h"

namespace vkg {

void Fill(OpContext& ctx, const Tensor& out, float value) {
  VKG_CHECK(out.dtype == DType::F32, "Fill: output must be f32");
  constexpr uint32_t kWg = 64;
  const auto& p = ctx.Pipeline(shaders::ShaderId::Fill, {vk::BindingKind::kStorage}, sizeof(shaders::FillParams),
                               vk::SpecConstants().Set(0, kWg));
  const shaders::FillParams params{uint32_t(out.elements()), value};
  const vk::Binding b[] = {vk::Binding::Storage(out.slice)};
  const Grid g = Grid1D(DivUp(out.elements(), kWg));
  ctx.rec.SetDispatchBytes(0);  // writes only
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

}  // namespace vkg
