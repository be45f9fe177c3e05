// Fused attention-input preparation (layer: host/ops).
#include "host/ops/attention_inputs.h"

#include "shaders/params/attention_inputs_params.h"
#include "vk/check.h"

namespace vkg {

void PrepareAttentionInputs(OpContext& ctx, const AttentionInputs& in, uint32_t start_pos) {
  const uint32_t D = in.head_dim, T = in.q.rows;
  const bool writes_kv = in.n_kv_heads > 0;
  VKG_CHECK(D > 0 && D % 4 == 0, "PrepareAttentionInputs: head_dim ", D, " is not a multiple of 4");
  VKG_CHECK(in.q.dtype == DType::F32 && in.q.cols == in.n_heads * D, "PrepareAttentionInputs: q is [", in.q.rows,
            ", ", in.q.cols, "], expected f32 rows of ", in.n_heads, " heads of ", D);
  VKG_CHECK(in.q_norm.elements() == D, "PrepareAttentionInputs: q_norm has ", in.q_norm.elements(), " values, expected ", D);
  VKG_CHECK(in.inv_freq.elements() == D / 2, "PrepareAttentionInputs: inv_freq has ", in.inv_freq.elements(),
            " values, expected ", D / 2);
  if (writes_kv) {
    const uint32_t row = in.n_kv_heads * D;
    VKG_CHECK(in.k.dtype == DType::F32 && in.v.dtype == DType::F32 && in.k.rows == T && in.v.rows == T &&
                  in.k.cols == row && in.v.cols == row,
              "PrepareAttentionInputs: k/v must be f32 [", T, ", ", row, "]");
    VKG_CHECK(in.k_norm.elements() == D, "PrepareAttentionInputs: k_norm has ", in.k_norm.elements(), " values, expected ", D);
    VKG_CHECK(in.k_cache.dtype == in.v_cache.dtype && in.k_cache.rows == in.v_cache.rows &&
                  in.k_cache.cols == row && in.v_cache.cols == row,
              "PrepareAttentionInputs: caches must both be [slots, ", row, "] of one dtype");
    VKG_CHECK(in.k_cache.dtype == DType::F16 || in.k_cache.dtype == DType::F32,
              "PrepareAttentionInputs: cache must be f16 or f32");
    VKG_CHECK(T <= in.k_cache.rows, "PrepareAttentionInputs: ", T, " tokens would overwrite each other in a ",
              in.k_cache.rows, "-slot cache");
  }
  // A head is D / 4 value pairs per half; 64 invocations cover D = 256 in one pass, 512 in two.
  constexpr uint32_t kWg = 64;
  const bool f32_cache = writes_kv && in.k_cache.dtype == DType::F32;
  const auto id = f32_cache ? shaders::ShaderId::AttentionInputsF32 : shaders::ShaderId::AttentionInputsF16;
  const auto S = vk::BindingKind::kStorage;
  const auto& p = ctx.Pipeline(id, {S, S, S, S, S, S, S, S, S}, sizeof(shaders::AttentionInputsParams),
                               vk::SpecConstants().Set(0, kWg));
  shaders::AttentionInputsParams params{};
  params.n_tokens = T;
  params.n_heads = in.n_heads;
  params.n_kv_heads = in.n_kv_heads;
  params.head_dim = D;
  params.start_pos = start_pos;
  params.cache_len = writes_kv ? in.k_cache.rows : 1;
  params.eps = in.eps;
  params.groups = T * (in.n_heads + 2 * in.n_kv_heads);
  params.pos_from_buffer = in.position ? 1u : 0u;
  // KV-shared layers bind q in the unused K/V slots: the shader never touches them there.
  const Tensor& k = writes_kv ? in.k : in.q;
  const vk::Binding b[] = {Bind(in.q),
                           Bind(in.q_norm),
                           Bind(k),
                           Bind(writes_kv ? in.v : in.q),
                           Bind(writes_kv ? in.k_norm : in.q_norm),
                           Bind(in.inv_freq),
                           Bind(writes_kv ? in.k_cache : in.q),
                           Bind(writes_kv ? in.v_cache : in.q),
                           vk::Binding::Storage(in.position ? *in.position : in.q_norm.slice)};  // q_norm: never read
  const Grid g = Grid1D(params.groups);
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

}  // namespace vkg
