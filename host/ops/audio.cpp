// The audio tower's ops (layer: host/ops).
#include "host/ops/audio.h"

#include "shaders/params/audio_params.h"
#include "vk/check.h"

namespace vkg {

void AudioConvNorm(OpContext& ctx, const Tensor& in, uint32_t t_in, uint32_t f_in, uint32_t c_in, const Tensor& w,
                   const Tensor& norm, uint32_t c_out, float eps, const Tensor& out) {
  const uint32_t t_out = (t_in - 1) / 2 + 1, f_out = (f_in - 1) / 2 + 1;
  VKG_CHECK(t_in > 0 && f_in > 0 && c_in > 0 && c_in * 9 <= 1152 && c_out > 0 && c_out <= 512, "AudioConvNorm: shape ",
            t_in, " x ", f_in, " x ", c_in, " -> ", c_out, " channels is outside the kernel");
  VKG_CHECK(in.elements() == uint64_t(t_in) * f_in * c_in && w.elements() == uint64_t(c_out) * c_in * 9 &&
                norm.elements() == c_out && out.elements() == uint64_t(t_out) * f_out * c_out,
            "AudioConvNorm: tensor sizes do not match the shape");
  const auto S = vk::BindingKind::kStorage;
  const auto& p = ctx.Pipeline(shaders::ShaderId::AudioConvNorm, {S, S, S, S}, sizeof(shaders::AudioConvNormParams),
                               vk::SpecConstants());
  const shaders::AudioConvNormParams params{t_in, f_in, c_in, t_out, f_out, c_out, eps};
  const vk::Binding b[] = {Bind(in), Bind(w), Bind(norm), Bind(out)};
  const Grid g = Grid1D(uint64_t(t_out) * f_out);
  ctx.rec.SetDispatchBytes((in.elements() + w.elements() + out.elements()) * 4);
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

void AudioAttention(OpContext& ctx, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& rel,
                    const Tensor& qs, uint32_t heads, uint32_t head_dim, float k_scale, float cap, const Tensor& out) {
  const uint32_t T = q.rows, stride = heads * head_dim, W = rel.rows;
  VKG_CHECK(W > 0 && W <= 32, "AudioAttention: window ", W, " is outside 1 .. 32");
  VKG_CHECK(q.cols == stride && k.cols == stride && v.cols == stride && out.cols == stride && rel.cols == stride &&
                k.rows == T && v.rows == T && out.rows == T && qs.elements() == head_dim,
            "AudioAttention: tensor shapes do not match ", T, " x ", heads, " heads of ", head_dim);
  const auto S = vk::BindingKind::kStorage;
  const auto& p = ctx.Pipeline(shaders::ShaderId::AudioAttention, {S, S, S, S, S, S},
                               sizeof(shaders::AudioAttentionParams), vk::SpecConstants());
  const shaders::AudioAttentionParams params{T, heads, head_dim, W, stride, k_scale, cap};
  const vk::Binding b[] = {Bind(q), Bind(k), Bind(v), Bind(rel), Bind(qs), Bind(out)};
  const Grid g = Grid1D(uint64_t(T) * heads);
  ctx.rec.SetDispatchBytes(uint64_t(T) * stride * 4 * (2 + 2 * W));
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

void AudioGluConv(OpContext& ctx, const Tensor& s, const Tensor& w, uint32_t kernel, const Tensor& out) {
  const uint32_t T = out.rows, H = out.cols;
  VKG_CHECK(s.rows == T && s.cols == 2 * H && w.elements() == uint64_t(H) * kernel && kernel > 0,
            "AudioGluConv: shapes do not match ", T, " x ", H, " with ", kernel, " taps");
  const auto S = vk::BindingKind::kStorage;
  const auto& p = ctx.Pipeline(shaders::ShaderId::AudioGluConv, {S, S, S}, sizeof(shaders::AudioGluConvParams),
                               vk::SpecConstants().Set(0, kElementwiseWorkgroup));
  const shaders::AudioGluConvParams params{T, H, kernel};
  const vk::Binding b[] = {Bind(s), Bind(w), Bind(out)};
  const Grid g = Grid1D(DivUp(uint64_t(T) * H, kElementwiseWorkgroup));
  ctx.rec.SetDispatchBytes((s.elements() + out.elements()) * 4);
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

void BiasAct(OpContext& ctx, const Tensor& x, const Tensor& bias, bool silu) {
  const bool has_bias = bias.elements() > 0;
  VKG_CHECK(x.dtype == DType::F32 && (!has_bias || bias.elements() == x.cols), "BiasAct: bias must hold ", x.cols,
            " values");
  const auto S = vk::BindingKind::kStorage;
  const auto& p = ctx.Pipeline(shaders::ShaderId::BiasAct, {S, S}, sizeof(shaders::BiasActParams),
                               vk::SpecConstants().Set(0, kElementwiseWorkgroup));
  const shaders::BiasActParams params{uint32_t(x.elements()), x.cols, has_bias ? 1u : 0u, silu ? 1u : 0u};
  const vk::Binding b[] = {Bind(x), Bind(has_bias ? bias : x)};
  const Grid g = Grid1D(DivUp(x.elements(), kElementwiseWorkgroup));
  ctx.rec.SetDispatchBytes(x.elements() * 4);
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

}  // namespace vkg
