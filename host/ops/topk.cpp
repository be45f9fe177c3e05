// Top-k routing op (layer: host/ops).
#include "host/ops/topk.h"

#include "shaders/params/topk_params.h"
#include "vk/check.h"

namespace vkg {

void TopKSoftmax(OpContext& ctx, const Tensor& logits, uint32_t k, const Tensor& per_expert_scale,
                 const vk::BufferSlice& ids, const Tensor& weights) {
  const bool has_scale = per_expert_scale.slice.buffer != nullptr;
  VKG_CHECK(logits.cols <= 512 && k >= 1 && k <= 32 && k <= logits.cols, "TopKSoftmax: k = ", k, " of ", logits.cols,
            " experts is outside the supported range (k <= 32, experts <= 512)");
  VKG_CHECK(weights.rows == logits.rows && weights.cols == k, "TopKSoftmax: weights must be [", logits.rows, ", ", k,
            "]");
  VKG_CHECK(ids.size >= uint64_t(logits.rows) * k * 4, "TopKSoftmax: ids slice too small");
  VKG_CHECK(!has_scale || per_expert_scale.elements() == logits.cols, "TopKSoftmax: per_expert_scale has ",
            per_expert_scale.elements(), " values for ", logits.cols, " experts");
  using vk::BindingKind;
  const auto& p =
      ctx.Pipeline(shaders::ShaderId::TopKSoftmax,
                   {BindingKind::kStorage, BindingKind::kStorage, BindingKind::kStorage, BindingKind::kStorage},
                   sizeof(shaders::TopKParams), vk::SpecConstants().Set(0, kElementwiseWorkgroup));
  const shaders::TopKParams params{logits.rows, logits.cols, k, has_scale ? 1u : 0u};
  const vk::Binding b[] = {Bind(logits), Bind(has_scale ? per_expert_scale : logits), vk::Binding::Storage(ids),
                           Bind(weights)};
  const Grid g = Grid1D(logits.rows);
  ctx.rec.SetDispatchBytes((logits.elements() + (has_scale ? logits.cols : 0)) * 4);
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

}  // namespace vkg
