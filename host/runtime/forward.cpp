// Gemma 4 forward pass on the device, op by op (layer: host/runtime). Mirrors ref::Model (host/reference)
// step for step; docs/model.md §2 has the math. Every op is followed by a compute barrier where the
// next op reads what it wrote.
#include "host/runtime/forward.h"

#include <cmath>

#include "host/ops/attention.h"
#include "host/ops/attention_inputs.h"
#include "host/ops/elementwise.h"
#include "host/ops/embed.h"
#include "host/ops/experts.h"
#include "host/ops/matmul.h"
#include "host/ops/matmul_int8.h"
#include "host/ops/ple.h"
#include "host/ops/rms_norm.h"
#include "host/ops/topk.h"
#include "vk/check.h"

namespace vkg {
namespace {

// A group of rows whose products run as one: the batched decode rows, or one prompt chunk.
struct RowGroup {
  uint32_t row0, n;
  bool decode;
};

// Per-chunk state shared by the blocks below.
struct Step {
  OpContext& ctx;
  const GpuModel& m;
  Activations& a;
  const ForwardBatch& b;
  uint32_t T;  // all rows of the step
  float eps;
  std::vector<RowGroup> groups;

  void Barrier() { ctx.rec.ComputeToCompute(); }
  // Group g's rows of a scratch tensor of `cols` columns.
  Tensor G(const RowGroup& g, const Tensor& t, uint32_t cols) const { return RowRange(t, g.row0, g.n, cols); }
  Tensor S(const ForwardSegment& seg, const Tensor& t, uint32_t cols) const {
    return RowRange(t, seg.row0, seg.T, cols);
  }
  // Product options: the int8 scratch, so that q8_0/q4_0 products take the integer-dot path where
  // host/ops/matmul_int8.h's rule allows (MatMul quantizes each input there first); decode rows
  // batched (each computed as alone: rows_as_decode).
  // int8_ready: the block end before it wrote the product's input already quantized (EndBlock).
  MatMulOptions Opt(const RowGroup& g, bool int8_ready = false) const {
    return {.rows_as_decode = g.decode, .int8_scratch = a.int8_x, .int8_ready = int8_ready};
  }
  // y = x W^T for every group: decode rows batched (each as alone), each prompt chunk on its own.
  void Product(const WeightMatrix& w, const Tensor& x, const Tensor& y, bool int8_ready = false) {
    for (const RowGroup& g : groups) MatMul(ctx, w, G(g, x, w.cols), G(g, y, w.rows), Opt(g, int8_ready));
  }
  // A block's end: x = (x + out_norm(y)) * scale, and a = next_norm(x) for a following block that
  // starts with a norm (next_norm empty when it does not): one fused dispatch. `consumer`: the
  // product that reads what it ends with (a, else x) next, if any. Where that product runs on the
  // integer-dot path for one decode token, the block end also writes its input as int8
  // activations (no quantize dispatch before the product); returns true when it did, and the
  // caller passes that to the product (Opt's int8_ready).
  bool EndBlock(const Tensor& out_norm, float scale, const Tensor& next_norm, const WeightMatrix* consumer = nullptr) {
    const uint32_t H = uint32_t(m.config().hidden_size);
    const bool fold = Int8Fold(consumer);
    const Int8Activations q = fold ? Int8ActivationsIn(a.int8_x, T, H) : Int8Activations{};
    const bool ready = ResidualRmsNorm(ctx, View(a.x, T, H), View(a.y, T, H), out_norm, scale, next_norm,
                                       View(a.a, T, H), eps, fold ? &q : nullptr);
    Barrier();
    return ready;
  }
  // One decode token alone in the step: where the folds into the products apply.
  bool OneToken() const { return T == 1 && groups.size() == 1 && groups[0].decode; }
  // Whether a block end writes the int8 activations of `consumer`'s input (one decode token whose
  // next product runs on the integer-dot path).
  bool Int8Fold(const WeightMatrix* consumer) const {
    return consumer && OneToken() && a.int8_x.buffer && consumer->parts.empty() && UsesIntegerDot(ctx, consumer->dtype);
  }
  // EndBlock's work for one token as a product's BlockEnd (host/ops/matmul.h); q holds the int8
  // layout it points to.
  BlockEnd End(const Tensor& out_norm, float scale, const Tensor& next_norm, const WeightMatrix* consumer,
               Int8Activations& q) const {
    const uint32_t H = uint32_t(m.config().hidden_size);
    const bool quant = Int8Fold(consumer);
    if (quant) q = Int8ActivationsIn(a.int8_x, 1, H);
    return {.x = View(a.x, 1, H),
            .w_out = out_norm,
            .w_next = next_norm,
            .a = View(a.a, 1, H),
            .scale = scale,
            .eps = eps,
            .int8_out = quant ? &q : nullptr,
            .counter = a.block_end_counter};
  }
  // y = x W^T, then EndBlock: for one decode token the product's last workgroup ends the block
  // (MatVecEndBlock: one dispatch and one barrier fewer), else the two dispatches. Returns
  // EndBlock's value (int8_ready for `consumer`).
  bool ProductEndBlock(const WeightMatrix& w, const Tensor& x, bool x_int8_ready, const Tensor& out_norm, float scale,
                       const Tensor& next_norm, const WeightMatrix* consumer) {
    const uint32_t H = uint32_t(m.config().hidden_size);
    if (OneToken()) {
      Int8Activations q;
      const BlockEnd e = End(out_norm, scale, next_norm, consumer, q);
      if (MatVecEndBlock(ctx, w, x, View(a.y, 1, H), Opt(groups[0], x_int8_ready), e)) {
        Barrier();
        return e.int8_out != nullptr;
      }
    }
    Product(w, x, V(a.y, H), x_int8_ready);
    Barrier();
    return EndBlock(out_norm, scale, next_norm, consumer);
  }
  // [T][cols] view of a batch-sized scratch tensor.
  Tensor V(const Tensor& t, uint32_t cols) const { return View(t, T, cols); }
  Tensor Rows(const Tensor& t, uint32_t rows, uint32_t cols) const { return View(t, rows, cols); }
};

// x += post_attn_norm(o_proj(attention(rope(q_norm(q)), cache)))  (§2.4-§2.6); int8_ready: the
// previous block end quantized a for qkv. Returns whether its own end quantized a for gate_up.
bool AttentionBlock(Step& s, int l, bool int8_ready) {
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

  s.Product(w.qkv, a, qkv, int8_ready);  // a = input_norm(x), from the previous block's EndBlock
  s.Barrier();
  // q_norm + RoPE on q; k_norm + RoPE on k and v_norm (of the raw K on K=V layers), both appended
  // to the cache: one fused op per sequence (each its own cache and position; no barrier between).
  for (const ForwardSegment& seg : s.b.segments) {
    AttentionInputs in{.qkv = s.S(seg, qkv, qkv_cols),
                       .q = s.S(seg, q, NH * D),
                       .q_norm = w.q_norm,
                       .n_heads = NH,
                       .head_dim = D,
                       .inv_freq = inv_freq,
                       .eps = s.eps,
                       .position = seg.position};
    if (owns) {
      in.k_col = NH * D;
      in.v_col = w.v_rows ? NH * D + w.kv_rows : in.k_col;  // K=V layers: V from the raw K
      in.k_norm = w.k_norm, in.k_cache = seg.kv->k(l), in.v_cache = seg.kv->v(l), in.n_kv_heads = KVH;
    }
    PrepareAttentionInputs(s.ctx, in, seg.start_pos);
  }
  s.Barrier();
  const int src = li.kv_source_layer;  // KV-shared layers read their source's cache
  const Tensor attn = s.V(s.a.attn, NH * D);
  for (const ForwardSegment& seg : s.b.segments) {
    AttentionShape shape;
    shape.start_pos = seg.start_pos;
    shape.n_heads = NH;
    shape.n_kv_heads = KVH;
    shape.head_dim = D;
    shape.cache_len = seg.kv->slots(src);
    shape.window = uint32_t(li.window);
    shape.scale = 1.f;  // Gemma 4: QK-norm replaces 1/sqrt(D)
    shape.position = seg.position;
    // Image tokens seeing their whole image: sliding layers only; full layers stay causal (§5.3).
    if (!li.full && seg.last_key) shape.last_key = seg.last_key;
    shape.split_counters = seg.attn_counters;
    Attention(s.ctx, s.S(seg, q, NH * D), seg.kv->k(src), seg.kv->v(src), s.S(seg, attn, NH * D), shape,
              seg.attn_scratch);
  }
  s.Barrier();
  // a = pre_ffn_norm(x) for the FFN block
  return s.ProductEndBlock(w.o_proj, attn, false, w.post_attn_norm, 1.f, w.pre_ffn_norm, &w.gate_up);
}

// act = gelu(gate m) * up m for m = a (rows [T][H]) of width I; gate and up are one stacked
// product. The down product that reads act is the caller's.
void MlpAct(Step& s, const WeightMatrix& gate_up, uint32_t I, const Tensor& m, bool int8_ready) {
  const Tensor gu = s.V(s.a.gate_up, 2 * I), act = s.V(s.a.act, I);
  // Decode rows on a GPU: the gate/up product writes gelu(gate) * up itself (no gelu_mul pass).
  std::vector<const RowGroup*> unfused;
  for (const RowGroup& g : s.groups) {
    if (g.decode && MatVecGeluPairs(s.ctx, gate_up, s.G(g, m, m.cols), s.G(g, act, I), s.Opt(g, int8_ready))) continue;
    MatMul(s.ctx, gate_up, s.G(g, m, m.cols), s.G(g, gu, 2 * I), s.Opt(g, int8_ready));
    unfused.push_back(&g);
  }
  if (!unfused.empty()) {
    s.Barrier();
    for (const RowGroup* g : unfused) GeluMulPairs(s.ctx, s.G(*g, gu, 2 * I), s.G(*g, act, I));
  }
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
  MatMul(s.ctx, *w.router, z, logits, {.int8_scratch = s.a.int8_x});  // one segment only (RecordForwardBatch)
  s.Barrier();
  TopKSoftmax(s.ctx, logits, K, w.per_expert_scale, s.a.expert_ids, wts);
  s.Barrier();
  // Each expert's [gate | up] rows (gate first) in one product per slot.
  const Tensor gu = s.Rows(s.a.gate_up, slots, 2 * I), act = s.Rows(s.a.act, slots, I);
  MatMulExperts(s.ctx, *w.experts_gate_up,
                {.rows_per_expert = 2 * I, .rows = 2 * I, .ids = s.a.expert_ids, .n_slots = slots, .x_div = K}, u, gu);
  s.Barrier();
  GeluMulPairs(s.ctx, gu, act);
  s.Barrier();
  const Tensor eo = s.Rows(s.a.expert_out, slots, H);
  MatMulExperts(s.ctx, *w.experts_down, {.rows_per_expert = H, .rows = H, .ids = s.a.expert_ids, .n_slots = slots}, act,
                eo);
  s.Barrier();
  MoeCombine(s.ctx, eo, wts, h2);
  s.Barrier();
  RmsNorm(s.ctx, h2, w.post_ffn_norm_2, h2, s.eps);
  s.Barrier();
}

// Feed-forward block with its residual (§2.7); `scale` is the layer scalar when nothing follows,
// next_norm the norm the following block starts with (empty: none), consumer the product reading
// its result next (EndBlock); int8_ready as AttentionBlock's. Returns its EndBlock's.
bool FfnBlock(Step& s, int l, float scale, const Tensor& next_norm, bool int8_ready, const WeightMatrix* consumer) {
  const ModelConfig& c = s.m.config();
  const LayerInfo& li = c.layers[size_t(l)];
  const GpuLayer& w = s.m.layer(l);
  const uint32_t H = uint32_t(c.hidden_size);
  const Tensor a = s.V(s.a.a, H), y = s.V(s.a.y, H);
  const uint32_t I = uint32_t(li.ffn_dim);
  MlpAct(s, w.gate_up, I, a, int8_ready);  // a = pre_ffn_norm(x) from the attention block
  const Tensor act = s.V(s.a.act, I);
  if (!c.has_moe()) return s.ProductEndBlock(w.down, act, false, w.post_ffn_norm, scale, next_norm, consumer);
  s.Product(w.down, act, y);
  s.Barrier();
  RmsNorm(s.ctx, y, w.post_ffn_norm_1, y, s.eps);  // dense branch h1
  Experts(s, l);                                   // h2 (reads x, writes its own scratch)
  AddScaled(s.ctx, y, s.V(s.a.h2, H), y, 1.f);
  s.Barrier();
  return s.EndBlock(w.post_ffn_norm, scale, next_norm, consumer);
}

// x = (x + post_ple_norm(proj(gelu(gate x) * ple[l]))) * layer_scalar  (§2.3)
bool PleBlock(Step& s, int l, const Tensor& next_norm, bool int8_ready, const WeightMatrix* consumer) {
  const ModelConfig& c = s.m.config();
  const GpuLayer& w = s.m.layer(l);
  const uint32_t H = uint32_t(c.hidden_size), P = uint32_t(c.hidden_size_per_layer_input);
  const Tensor x = s.V(s.a.x, H), y = s.V(s.a.y, H), g = s.V(s.a.ple_g, P);
  s.Product(*w.ple_gate, x, g, int8_ready);
  s.Barrier();
  const Tensor ple = s.a.PleLayer(l, s.T);
  if (s.OneToken()) {  // the projection also ends the block (its last workgroup)
    Int8Activations q;
    const BlockEnd e = s.End(w.ple_post_norm, w.layer_scalar, next_norm, consumer, q);
    if (MatVecGeluMul(s.ctx, *w.ple_proj, g, ple, y, &e)) {
      s.Barrier();
      return e.int8_out != nullptr;
    }
  }
  // Decode rows on a GPU: the projection applies gelu(gate) * ple as it reads (no gelu_mul pass).
  std::vector<const RowGroup*> unfused;
  for (const RowGroup& grp : s.groups) {
    if (grp.decode && MatVecGeluMul(s.ctx, *w.ple_proj, s.G(grp, g, P), s.G(grp, ple, P), s.G(grp, y, H))) continue;
    GeluMul(s.ctx, s.G(grp, g, P), s.G(grp, ple, P), s.G(grp, g, P));
    unfused.push_back(&grp);
  }
  if (!unfused.empty()) {
    s.Barrier();
    for (const RowGroup* grp : unfused) MatMul(s.ctx, *w.ple_proj, s.G(*grp, g, P), s.G(*grp, y, H), s.Opt(*grp));
  }
  s.Barrier();
  return s.EndBlock(w.ple_post_norm, w.layer_scalar, next_norm, consumer);
}

// ple[l] = (rmsnorm_P(W_plmp_l x0 * H^-0.5) + tok[l]) * 2^-0.5 for every layer (§2.3).
void PerLayerInputs(Step& s) {
  const ModelConfig& c = s.m.config();
  const uint32_t H = uint32_t(c.hidden_size), L = uint32_t(c.num_hidden_layers);
  const Tensor x0 = s.V(s.a.x, H);
  const uint32_t P = uint32_t(c.hidden_size_per_layer_input);
  const Tensor ctx = s.V(s.a.ple_ctx, L * P);  // [T][L * P]: all layers in one product
  s.Product(s.m.ple_model_proj(), x0, ctx);
  s.Barrier();
  // The norm over each layer's P values and the combine in one dispatch (ple_norm_combine.comp).
  PleNormCombine(
      s.ctx, ctx, s.m.ple_proj_norm(), s.a.ple_tok, s.a.ple,
      PleCombineShape{.n_tokens = s.T, .n_layers = L, .ple_rows = s.a.ple_rows, .scale = float(1.0 / std::sqrt(2.0))},
      s.eps);
  s.Barrier();
}

}  // namespace

void RecordForward(OpContext& ctx, const GpuModel& model, const KvCache& kv, Activations& acts, uint32_t T,
                   uint32_t start_pos, const vk::BufferSlice* position, const ChunkImages* images) {
  VKG_CHECK(!position || T == 1, "RecordForward: a position buffer is for one decode token");
  VKG_CHECK(!images || images->runs.empty() || (acts.soft.rows > 0 && (T > 1 || !images->bidirectional)),
            "RecordForward: image rows need a model with a vision tower (bidirectional: a prompt chunk)");
  ForwardBatch b;
  if (images && !images->runs.empty()) b.images = images;
  b.rows = T;
  b.decode_rows = T == 1 ? 1 : 0;  // one token: the decode kernels, as a batch of one
  b.segments.push_back({0, T, start_pos, &kv, position, acts.attn_scratch.slice.buffer ? &acts.attn_scratch : nullptr,
                        b.images && images->bidirectional ? &acts.last_key : nullptr, &acts.attn_counters});
  RecordForwardBatch(ctx, model, acts, b);
}

void RecordForwardBatch(OpContext& ctx, const GpuModel& model, Activations& acts, const ForwardBatch& batch) {
  const ModelConfig& c = model.config();
  const uint32_t T = batch.rows;
  VKG_CHECK(T >= 1 && T <= acts.batch && !batch.segments.empty(), "RecordForwardBatch: ", T, " rows for scratch of ",
            acts.batch);
  // MoE experts run on the whole step's rows as one sequence (their decode/prefill kernels are not
  // batched per row yet): one segment only.
  VKG_CHECK(!c.has_moe() || batch.segments.size() == 1,
            "RecordForwardBatch: mixture-of-experts layers take one sequence per forward pass");
  Step s{ctx, model, acts, batch, T, c.rms_norm_eps, {}};
  if (batch.decode_rows) s.groups.push_back({0, batch.decode_rows, true});
  for (size_t i = 0; i < batch.segments.size(); ++i) {
    const ForwardSegment& seg = batch.segments[i];
    VKG_CHECK(seg.kv && seg.row0 + seg.T <= T, "RecordForwardBatch: segment ", i, " is outside the rows");
    VKG_CHECK(i < batch.decode_rows ? seg.T == 1 && seg.row0 == i : seg.T > 1 || batch.decode_rows == 0,
              "RecordForwardBatch: segment ", i, " does not match the decode rows");
    VKG_CHECK(!seg.position || seg.T == 1, "RecordForwardBatch: a position buffer is for one decode token");
    if (i >= batch.decode_rows) s.groups.push_back({seg.row0, seg.T, false});
  }
  const uint32_t H = uint32_t(c.hidden_size);
  const Tensor x = s.V(acts.x, H);
  Embed(ctx, model.embed(), acts.ids, x, c.embed_scale());
  if (batch.images) {
    // Image rows: their soft tokens, unscaled, over the (pad) embeddings (§5.3).
    ctx.rec.ComputeToTransfer();
    uint64_t src = 0;
    for (const ChunkImages::Run& r : batch.images->runs) {
      const uint64_t bytes = uint64_t(r.n) * H * 4;
      ctx.rec.CopyBuffer(acts.soft.slice.Sub(src, bytes), x.slice.Sub(uint64_t(r.row) * H * 4, bytes));
      src += bytes;
    }
    ctx.rec.TransferToCompute();
  }
  s.Barrier();
  if (c.has_ple()) PerLayerInputs(s);
  // Every block starts from a = its input norm of x, written by the block before (EndBlock); the
  // first layer's comes from here.
  RmsNorm(ctx, x, model.layer(0).input_norm, s.V(acts.a, H), c.rms_norm_eps);
  s.Barrier();
  // int8_ready: the block end before wrote the next product's input as int8 activations.
  bool int8_ready = false;
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const bool last = l + 1 == c.num_hidden_layers;
    const Tensor next_input_norm = !last ? model.layer(l + 1).input_norm : Tensor{};
    const WeightMatrix* next_qkv = !last ? &model.layer(l + 1).qkv : nullptr;
    int8_ready = AttentionBlock(s, l, int8_ready);
    const float scalar = model.layer(l).layer_scalar;
    if (c.has_ple()) {
      const auto& gate = model.layer(l).ple_gate;
      int8_ready = FfnBlock(s, l, 1.f, Tensor{}, int8_ready, gate ? &*gate : nullptr);
      int8_ready = PleBlock(s, l, next_input_norm, int8_ready, next_qkv);
    } else {
      int8_ready = FfnBlock(s, l, scalar, next_input_norm, int8_ready, next_qkv);
    }
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
