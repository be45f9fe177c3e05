// Gemma 4 forward pass on the device, op by op (layer: host). Mirrors ref::Model (host/reference)
// step for step; gemma4.md §2 has the math. Every op is followed by a compute barrier where the
// next op reads what it wrote.
#include "host/forward.h"

#include <cmath>

#include "host/ops/attention.h"
#include "host/ops/attention_inputs.h"
#include "host/ops/elementwise.h"
#include "host/ops/embed.h"
#include "host/ops/experts.h"
#include "host/ops/matmul.h"
#include "host/ops/ple.h"
#include "host/ops/rms_norm.h"
#include "host/ops/topk.h"
#include "vk/check.h"

namespace vkg {
namespace {

// Per-chunk state shared by the blocks below.
struct Step {
  OpContext& ctx;
  const GpuModel& m;
  const KvCache& kv;
  Activations& a;
  uint32_t T, start_pos;
  float eps;
  const vk::BufferSlice* position;  // replayed decode: the real start_pos, read on the device

  void Barrier() { ctx.rec.ComputeToCompute(); }
  // Product options: the int8 scratch, so that q8_0/q4_0 products take the integer-dot path where
  // host/ops/matmul_int8.h's rule allows (MatMul quantizes each input there first). The fused
  // gate|up decode product keeps its gelu fusion (int8 too); the per-layer-input projection fused
  // with gelu * up on its input stays float.
  MatMulOptions Int8() const { return {.int8_scratch = a.int8_x}; }
  // A block's end: x = (x + out_norm(y)) * scale, and a = next_norm(x) for a following block that
  // starts with a norm (next_norm empty when it does not): one fused dispatch.
  void EndBlock(const Tensor& out_norm, float scale, const Tensor& next_norm) {
    const uint32_t H = uint32_t(m.config().hidden_size);
    ResidualRmsNorm(ctx, View(a.x, T, H), View(a.y, T, H), out_norm, scale, next_norm, View(a.a, T, H), eps);
    Barrier();
  }
  // [T][cols] view of a batch-sized scratch tensor.
  Tensor V(const Tensor& t, uint32_t cols) const { return View(t, T, cols); }
  Tensor Rows(const Tensor& t, uint32_t rows, uint32_t cols) const { return View(t, rows, cols); }
};

// x += post_attn_norm(o_proj(attention(rope(q_norm(q)), cache)))  (§2.4-§2.6)
void AttentionBlock(Step& s, int l) {
  const ModelConfig& c = s.m.config();
  const LayerInfo& li = c.layers[size_t(l)];
  const GpuLayer& w = s.m.layer(l);
  const uint32_t H = uint32_t(c.hidden_size), NH = uint32_t(c.num_attention_heads);
  const uint32_t D = uint32_t(li.head_dim), KVH = uint32_t(li.n_kv_heads);
  const bool owns = li.owns_kv(l);
  const Tensor a = s.V(s.a.a, H), y = s.V(s.a.y, H);
  const uint32_t qkv_cols = NH * D + w.kv_rows + w.v_rows;
  const Tensor q = s.V(s.a.q, NH * D), qkv = s.V(s.a.qkv, qkv_cols);
  const Tensor inv_freq = View(li.full ? s.a.inv_freq_full : s.a.inv_freq_sliding, 1, D / 2);

  MatMul(s.ctx, w.qkv, a, qkv, s.Int8());  // a = input_norm(x), from the previous block's EndBlock
  s.Barrier();
  // q_norm + RoPE on q; k_norm + RoPE on k and v_norm (of the raw K on K=V layers), both appended
  // to the cache: one fused op.
  AttentionInputs in{.qkv = qkv, .q = q, .q_norm = w.q_norm, .n_heads = NH, .head_dim = D, .inv_freq = inv_freq,
                     .eps = s.eps, .position = s.position};
  if (owns) {
    in.k_col = NH * D;
    in.v_col = w.v_rows ? NH * D + w.kv_rows : in.k_col;  // K=V layers: V from the raw K
    in.k_norm = w.k_norm, in.k_cache = s.kv.k(l), in.v_cache = s.kv.v(l), in.n_kv_heads = KVH;
  }
  PrepareAttentionInputs(s.ctx, in, s.start_pos);
  s.Barrier();
  const int src = li.kv_source_layer;  // KV-shared layers read their source's cache
  AttentionShape shape;
  shape.start_pos = s.start_pos;
  shape.n_heads = NH;
  shape.n_kv_heads = KVH;
  shape.head_dim = D;
  shape.cache_len = s.kv.slots(src);
  shape.window = uint32_t(li.window);
  shape.scale = 1.f;  // Gemma 4: QK-norm replaces 1/sqrt(D)
  shape.position = s.position;
  const Tensor attn = s.V(s.a.attn, NH * D);
  Attention(s.ctx, q, s.kv.k(src), s.kv.v(src), attn, shape,
            s.a.attn_scratch.slice.buffer ? &s.a.attn_scratch : nullptr);
  s.Barrier();
  MatMul(s.ctx, w.o_proj, attn, y, s.Int8());
  s.Barrier();
  s.EndBlock(w.post_attn_norm, 1.f, w.pre_ffn_norm);  // a = pre_ffn_norm(x) for the FFN block
}

// out = down(gelu(gate m) * up m) for m = a (rows [T][H]) of width I; gate and up are one
// stacked product.
void Mlp(Step& s, const WeightMatrix& gate_up, const WeightMatrix& down, uint32_t I, const Tensor& m,
         const Tensor& out) {
  const Tensor gu = s.V(s.a.gate_up, 2 * I), act = s.V(s.a.act, I);
  // One token on a GPU: the gate/up product writes gelu(gate) * up itself (no gelu_mul pass).
  if (s.T != 1 || !MatVecGateUpGelu(s.ctx, gate_up, m, act, s.Int8())) {
    MatMul(s.ctx, gate_up, m, gu, s.Int8());
    s.Barrier();
    GeluMulPairs(s.ctx, gu, act);
  }
  s.Barrier();
  MatMul(s.ctx, down, act, out, s.Int8());
  s.Barrier();
}

// Routed experts of a MoE layer: h2 = post_ffn_norm_2(sum_j w_j expert_j(pre_ffn_norm_2(x))).
void Experts(Step& s, int l) {
  const ModelConfig& c = s.m.config();
  const GpuLayer& w = s.m.layer(l);
  const uint32_t H = uint32_t(c.hidden_size), E = uint32_t(c.num_experts), K = uint32_t(c.top_k_experts);
  const uint32_t I = uint32_t(c.moe_intermediate_size), slots = s.T * K;
  const Tensor x = s.V(s.a.x, H), z = s.V(s.a.z, H), u = s.V(s.a.a, H), h2 = s.V(s.a.h2, H);
  const Tensor logits = s.V(s.a.router_logits, E), wts = s.V(s.a.expert_weights, K);
  // Router: its weights carry router.scale * H^-0.5, so it reads the weightless norm of x.
  RmsNorm(s.ctx, x, Tensor{}, z, s.eps);
  RmsNorm(s.ctx, x, w.pre_ffn_norm_2, u, s.eps);
  s.Barrier();
  MatMul(s.ctx, *w.router, z, logits, s.Int8());
  s.Barrier();
  TopKSoftmax(s.ctx, logits, K, w.per_expert_scale, s.a.expert_ids, wts);
  s.Barrier();
  // Each expert's [gate | up] rows (gate first) in one product per slot.
  const Tensor gu = s.Rows(s.a.gate_up, slots, 2 * I), act = s.Rows(s.a.act, slots, I);
  MatMulExperts(s.ctx, *w.experts_gate_up, 2 * I, 0, 2 * I, s.a.expert_ids, slots, u, K, gu);
  s.Barrier();
  GeluMulPairs(s.ctx, gu, act);
  s.Barrier();
  const Tensor eo = s.Rows(s.a.expert_out, slots, H);
  MatMulExperts(s.ctx, *w.experts_down, H, 0, H, s.a.expert_ids, slots, act, 1, eo);
  s.Barrier();
  MoeCombine(s.ctx, eo, wts, h2);
  s.Barrier();
  RmsNorm(s.ctx, h2, w.post_ffn_norm_2, h2, s.eps);
  s.Barrier();
}

// Feed-forward block with its residual (§2.7); `scale` is the layer scalar when nothing follows,
// next_norm the norm the following block starts with (empty: none).
void FfnBlock(Step& s, int l, float scale, const Tensor& next_norm) {
  const ModelConfig& c = s.m.config();
  const LayerInfo& li = c.layers[size_t(l)];
  const GpuLayer& w = s.m.layer(l);
  const uint32_t H = uint32_t(c.hidden_size);
  const Tensor a = s.V(s.a.a, H), y = s.V(s.a.y, H);
  Mlp(s, w.gate_up, w.down, uint32_t(li.ffn_dim), a, y);  // a = pre_ffn_norm(x) from the attention block
  if (c.has_moe()) {
    RmsNorm(s.ctx, y, w.post_ffn_norm_1, y, s.eps);  // dense branch h1
    Experts(s, l);                                     // h2 (reads x, writes its own scratch)
    AddScaled(s.ctx, y, s.V(s.a.h2, H), y, 1.f);
    s.Barrier();
  }
  s.EndBlock(w.post_ffn_norm, scale, next_norm);
}

// x = (x + post_ple_norm(proj(gelu(gate x) * ple[l]))) * layer_scalar  (§2.3)
void PleBlock(Step& s, int l, const Tensor& next_norm) {
  const ModelConfig& c = s.m.config();
  const GpuLayer& w = s.m.layer(l);
  const uint32_t H = uint32_t(c.hidden_size), P = uint32_t(c.hidden_size_per_layer_input);
  const Tensor x = s.V(s.a.x, H), y = s.V(s.a.y, H), g = s.V(s.a.ple_g, P);
  MatMul(s.ctx, *w.ple_gate, x, g, s.Int8());
  s.Barrier();
  if (s.T != 1 || !MatVecGeluMul(s.ctx, *w.ple_proj, g, s.a.PleLayer(l, s.T), y)) {
    GeluMul(s.ctx, g, s.a.PleLayer(l, s.T), g);
    s.Barrier();
    MatMul(s.ctx, *w.ple_proj, g, y, s.Int8());
  }
  s.Barrier();
  s.EndBlock(w.ple_post_norm, w.layer_scalar, next_norm);
}

// ple[l] = (rmsnorm_P(W_plmp_l x0 * H^-0.5) + tok[l]) * 2^-0.5 for every layer (§2.3).
void PerLayerInputs(Step& s) {
  const ModelConfig& c = s.m.config();
  const uint32_t H = uint32_t(c.hidden_size), L = uint32_t(c.num_hidden_layers);
  const Tensor x0 = s.V(s.a.x, H);
  const uint32_t P = uint32_t(c.hidden_size_per_layer_input);
  const Tensor ctx = s.V(s.a.ple_ctx, L * P);  // [T][L * P]: all layers in one product
  MatMul(s.ctx, s.m.ple_model_proj(), x0, ctx, s.Int8());
  s.Barrier();
  // The norm over each layer's P values and the combine in one dispatch (ple_norm_combine.comp).
  PleNormCombine(s.ctx, ctx, s.m.ple_proj_norm(), s.a.ple_tok, s.a.ple, s.T, L, s.a.ple_rows,
                 float(1.0 / std::sqrt(2.0)), s.eps);
  s.Barrier();
}

}  // namespace

void RecordForward(OpContext& ctx, const GpuModel& model, const KvCache& kv, Activations& acts, uint32_t T,
                   uint32_t start_pos, const vk::BufferSlice* position) {
  const ModelConfig& c = model.config();
  VKG_CHECK(!position || T == 1, "RecordForward: a position buffer is for one decode token");
  Step s{ctx, model, kv, acts, T, start_pos, c.rms_norm_eps, position};
  const uint32_t H = uint32_t(c.hidden_size);
  const Tensor x = s.V(acts.x, H);
  Embed(ctx, model.embed(), acts.ids, x, c.embed_scale());
  s.Barrier();
  if (c.has_ple()) PerLayerInputs(s);
  // Every block starts from a = its input norm of x, written by the block before (EndBlock); the
  // first layer's comes from here.
  RmsNorm(ctx, x, model.layer(0).input_norm, s.V(acts.a, H), c.rms_norm_eps);
  s.Barrier();
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const Tensor next_input_norm = l + 1 < c.num_hidden_layers ? model.layer(l + 1).input_norm : Tensor{};
    AttentionBlock(s, l);
    const float scalar = model.layer(l).layer_scalar;
    FfnBlock(s, l, c.has_ple() ? 1.f : scalar, c.has_ple() ? Tensor{} : next_input_norm);
    if (c.has_ple()) PleBlock(s, l, next_input_norm);
  }
  RmsNorm(ctx, x, model.final_norm(), x, c.rms_norm_eps);
  s.Barrier();
}

void RecordHead(OpContext& ctx, const GpuModel& model, Activations& acts, uint32_t row0, uint32_t rows) {
  const ModelConfig& c = model.config();
  const uint32_t H = uint32_t(c.hidden_size), V = uint32_t(c.vocab_size);
  // Copy the rows first: a storage binding at an arbitrary row offset may be misaligned.
  const Tensor in = View(acts.head_in, rows, H);
  ctx.rec.ComputeToTransfer();
  ctx.rec.CopyBuffer(acts.x.slice.Sub(uint64_t(row0) * H * 4, uint64_t(rows) * H * 4), in.slice);
  ctx.rec.TransferToCompute();
  const Tensor logits = View(acts.logits, rows, V);
  // The soft-cap (final_logit_softcapping; 0 = none) is applied as the head writes its logits.
  MatMul(ctx, model.head(), in, logits, {.softcap = c.final_logit_softcapping, .int8_scratch = acts.int8_x});
  ctx.rec.ComputeToCompute();
}

}  // namespace vkg
