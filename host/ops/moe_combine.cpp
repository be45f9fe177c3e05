// MoeCombine op (layer: host/ops); MatMulExperts lives in experts.cpp.
#include "host/ops/experts.h"
#include "shaders/params/moe_params.h"
#include "vk/check.h"

namespace vkg {

void MoeCombine(OpContext& ctx, const Tensor& expert_out, const Tensor& weights, const Tensor& out) {
  const uint32_t T = out.rows, K = weights.cols, H = out.cols;
  VKG_CHECK(weights.rows == T && expert_out.rows == T * K && expert_out.cols == H, "MoeCombine: expert_out [",
            expert_out.rows, ", ", expert_out.cols, "], weights [", weights.rows, ", ", K, "], out [", T, ", ", H, "]");
  using vk::BindingKind;
  const auto& p =
      ctx.Pipeline(shaders::ShaderId::MoeCombine, {BindingKind::kStorage, BindingKind::kStorage, BindingKind::kStorage},
                   sizeof(shaders::MoeCombineParams), vk::SpecConstants().Set(0, kElementwiseWorkgroup));
  const shaders::MoeCombineParams params{T, K, H};
  const vk::Binding b[] = {Bind(expert_out), Bind(weights), Bind(out)};
  const Grid g = Grid1D(DivUp(uint64_t(T) * H, kElementwiseWorkgroup));
  ctx.rec.SetDispatchBytes((uint64_t(T) * K * H + uint64_t(T) * K) * 4);  // expert outputs and weights
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

}  // namespace vkg
