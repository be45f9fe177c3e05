// RoPE op (layer: host/ops).
#include "host/ops/rope.h"

#include "shaders/params/rope_params.h"
#include "vk/check.h"

namespace vkg {

void Rope(OpContext& ctx, const Tensor& x, uint32_t n_heads, uint32_t head_dim, uint32_t start_pos,
          const Tensor& inv_freq) {
  VKG_CHECK(head_dim % 2 == 0, "Rope: head_dim ", head_dim, " is odd");
  VKG_CHECK(x.cols >= n_heads * head_dim, "Rope: rows of ", x.cols, " floats hold fewer than ", n_heads, " heads of ",
            head_dim);
  VKG_CHECK(inv_freq.elements() == head_dim / 2, "Rope: inv_freq has ", inv_freq.elements(), " values, expected ",
            head_dim / 2);
  const auto& p = ctx.Pipeline(shaders::ShaderId::Rope, {vk::BindingKind::kStorage, vk::BindingKind::kStorage},
                               sizeof(shaders::RopeParams), vk::SpecConstants().Set(0, kElementwiseWorkgroup));
  const shaders::RopeParams params{x.rows, n_heads, head_dim, start_pos, x.cols};
  const vk::Binding b[] = {Bind(x), Bind(inv_freq)};
  const Grid g = Grid1D(DivUp(uint64_t(x.rows) * n_heads * (head_dim / 2), kElementwiseWorkgroup));
  ctx.rec.SetDispatchBytes((uint64_t(x.rows) * n_heads * head_dim + head_dim / 2) * 4);  // the heads, inv_freq
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

}  // namespace vkg
