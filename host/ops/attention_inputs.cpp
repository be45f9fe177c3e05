// Fused attention-input preparation (layer: host/ops).
#include "host/ops/attention_inputs.h"

#include "host/device/kv_cache.h"
#include "shaders/params/attention_inputs_params.h"
#include "vk/check.h"

namespace vkg {

void PrepareAttentionInputs(OpContext& ctx, const AttentionInputs& in, uint32_t start_pos) {
  const uint32_t D = in.head_dim, T = in.qkv.rows, cols = in.qkv.cols;
  const bool writes_kv = in.n_kv_heads > 0;
  const uint32_t kv_row = in.n_kv_heads * D;
  VKG_CHECK(D > 0 && D % 4 == 0, "PrepareAttentionInputs: head_dim ", D, " is not a multiple of 4");
  VKG_CHECK(in.qkv.dtype == DType::F32 && cols >= in.n_heads * D, "PrepareAttentionInputs: qkv is [", T, ", ", cols,
            "], its rows must hold ", in.n_heads, " query heads of ", D);
  VKG_CHECK(in.q.dtype == DType::F32 && in.q.rows == T && in.q.cols == in.n_heads * D, "PrepareAttentionInputs: q is [",
            in.q.rows, ", ", in.q.cols, "], expected [", T, ", ", in.n_heads * D, "]");
  VKG_CHECK(in.q_norm.elements() == D, "PrepareAttentionInputs: q_norm has ", in.q_norm.elements(),
            " values, expected ", D);
  VKG_CHECK(in.inv_freq.elements() == D / 2, "PrepareAttentionInputs: inv_freq has ", in.inv_freq.elements(),
            " values, expected ", D / 2);
  if (writes_kv) {
    VKG_CHECK(in.k_col % 2 == 0 && in.v_col % 2 == 0 && in.k_col + kv_row <= cols && in.v_col + kv_row <= cols,
              "PrepareAttentionInputs: K at column ", in.k_col, " and V at ", in.v_col, " do not fit rows of ", cols);
    VKG_CHECK(in.k_norm.elements() == D, "PrepareAttentionInputs: k_norm has ", in.k_norm.elements(),
              " values, expected ", D);
    VKG_CHECK(in.k_cache.dtype == in.v_cache.dtype && in.k_cache.rows == in.v_cache.rows && in.k_cache.cols == kv_row &&
                  in.v_cache.cols == kv_row,
              "PrepareAttentionInputs: caches must both be [slots, ", kv_row, "] of one dtype");
    VKG_CHECK(IsKvCacheDType(in.k_cache.dtype), "PrepareAttentionInputs: cache must be f32, f16, q8_0 or q4_0");
    VKG_CHECK(!IsQuantized(in.k_cache.dtype) || (D % 16 == 0 && D <= 512), "PrepareAttentionInputs: a ",
              DTypeName(in.k_cache.dtype), " cache needs head_dim a multiple of 16 and <= 512; got ", D);
    VKG_CHECK(T <= in.k_cache.rows, "PrepareAttentionInputs: ", T, " tokens would overwrite each other in a ",
              in.k_cache.rows, "-slot cache");
  }
  // A head is D / 4 value pairs per half; 64 invocations cover D = 256 in one pass, 512 in two.
  constexpr uint32_t kWg = 64;
  const DType kv = writes_kv ? in.k_cache.dtype : DType::F16;
  const auto id = kv == DType::F32    ? shaders::ShaderId::AttentionInputsF32
                  : kv == DType::Q8_0 ? shaders::ShaderId::AttentionInputsQ8
                  : kv == DType::Q4_0 ? shaders::ShaderId::AttentionInputsQ4
                                      : shaders::ShaderId::AttentionInputsF16;
  const auto S = vk::BindingKind::kStorage;
  const auto& p = ctx.Pipeline(id, {S, S, S, S, S, S, S, S}, sizeof(shaders::AttentionInputsParams),
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
  params.qkv_cols = cols;
  params.k_col = in.k_col;
  params.v_col = in.v_col;
  // KV-shared layers bind q_norm and q in the unused slots: the shader never touches them there.
  const vk::Binding b[] = {Bind(in.q),
                           Bind(in.q_norm),
                           Bind(in.qkv),
                           Bind(writes_kv ? in.k_norm : in.q_norm),
                           Bind(in.inv_freq),
                           Bind(writes_kv ? in.k_cache : in.q),
                           Bind(writes_kv ? in.v_cache : in.q),
                           vk::Binding::Storage(in.position ? *in.position : in.q_norm.slice)};
  const Grid g = Grid1D(params.groups);
  // The query heads and (owning layers) the raw K and V heads of every token, the norms, inv_freq.
  const uint64_t heads = uint64_t(T) * (in.n_heads + 2 * in.n_kv_heads) * D;
  ctx.rec.SetDispatchBytes((heads + D * (writes_kv ? 2 : 1) + D / 2) * 4);
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

}  // namespace vkg
