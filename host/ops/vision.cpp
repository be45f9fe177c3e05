// The vision tower's ops (layer: host/ops).
#include "host/ops/vision.h"

#include "shaders/params/vision_params.h"
#include "vk/check.h"

namespace vkg {

void ClampCopy(OpContext& ctx, const Tensor& src, const Tensor& dst, float lo, float hi) {
  VKG_CHECK(src.elements() == dst.elements() && src.dtype == DType::F32 && dst.dtype == DType::F32,
            "ClampCopy: src and dst must be f32 of equal size");
  const auto S = vk::BindingKind::kStorage;
  const auto& p = ctx.Pipeline(shaders::ShaderId::ClampCopy, {S, S}, sizeof(shaders::ClampParams),
                               vk::SpecConstants().Set(0, kElementwiseWorkgroup));
  const shaders::ClampParams params{uint32_t(src.elements()), lo, hi};
  const vk::Binding b[] = {Bind(src), Bind(dst)};
  const Grid g = Grid1D(DivUp(src.elements(), 4 * kElementwiseWorkgroup));
  ctx.rec.SetDispatchBytes(src.elements() * 4);
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

void Rope2D(OpContext& ctx, const Tensor& x, uint32_t n_heads, uint32_t head_dim, const vk::BufferSlice& positions,
            const Tensor& inv_freq) {
  VKG_CHECK(head_dim % 4 == 0, "Rope2D: head_dim ", head_dim, " is not a multiple of 4");
  VKG_CHECK(x.cols >= n_heads * head_dim, "Rope2D: rows of ", x.cols, " floats hold fewer than ", n_heads, " heads of ",
            head_dim);
  VKG_CHECK(inv_freq.elements() == head_dim / 4, "Rope2D: inv_freq has ", inv_freq.elements(), " values, expected ",
            head_dim / 4);
  VKG_CHECK(positions.size >= uint64_t(x.rows) * 8, "Rope2D: positions hold fewer than ", x.rows, " (x, y) pairs");
  const auto S = vk::BindingKind::kStorage;
  const auto& p = ctx.Pipeline(shaders::ShaderId::Rope2D, {S, S, S}, sizeof(shaders::Rope2DParams),
                               vk::SpecConstants().Set(0, kElementwiseWorkgroup));
  const shaders::Rope2DParams params{x.rows, n_heads, head_dim, x.cols};
  const vk::Binding b[] = {Bind(x), vk::Binding::Storage(positions), Bind(inv_freq)};
  const Grid g = Grid1D(DivUp(uint64_t(x.rows) * n_heads * (head_dim / 2), kElementwiseWorkgroup));
  ctx.rec.SetDispatchBytes(uint64_t(x.rows) * (n_heads * head_dim + 2) * 4);
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

void VisionPool(OpContext& ctx, const Tensor& x, const vk::BufferSlice& members, uint32_t members_per_row, float scale,
                const Tensor& std_bias, const Tensor& std_scale, const Tensor& out) {
  VKG_CHECK(x.cols == out.cols, "VisionPool: x has ", x.cols, " columns, out ", out.cols);
  VKG_CHECK(members.size >= uint64_t(out.rows) * members_per_row * 4, "VisionPool: members hold fewer than ", out.rows,
            " x ", members_per_row, " patch indices");
  const bool standardize = std_bias.elements() > 0;
  VKG_CHECK(!standardize || (std_bias.elements() == x.cols && std_scale.elements() == x.cols),
            "VisionPool: std_bias / std_scale must hold ", x.cols, " values");
  const auto S = vk::BindingKind::kStorage;
  const auto& p = ctx.Pipeline(shaders::ShaderId::VisionPool, {S, S, S, S, S}, sizeof(shaders::VisionPoolParams),
                               vk::SpecConstants().Set(0, kElementwiseWorkgroup));
  const shaders::VisionPoolParams params{out.rows, x.cols, members_per_row, scale, standardize ? 1u : 0u};
  const vk::Binding b[] = {Bind(x), vk::Binding::Storage(members), Bind(standardize ? std_bias : x),
                           Bind(standardize ? std_scale : x), Bind(out)};
  const Grid g = Grid1D(DivUp(out.elements(), kElementwiseWorkgroup));
  ctx.rec.SetDispatchBytes((out.elements() * members_per_row + out.elements()) * 4);
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

}  // namespace vkg
