// CPU reference forward pass of the Gemma 4 text decoder (layer: host/reference).
// Plain float32 from ref_ops; each step cites the docs/model.md section it implements.
#include "host/reference/ref_model.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "host/model/image_patches.h"
#include "host/reference/ref_ops.h"

namespace vkg::ref {
namespace {

size_t Sz(int64_t a, int64_t b = 1, int64_t c = 1) { return size_t(a) * size_t(b) * size_t(c); }

void AddInPlace(std::vector<float>& x, const std::vector<float>& y) {
  AddScaled(x.data(), y.data(), x.data(), x.size(), 1.f);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Weights

ModelWeights ModelWeights::Load(const Checkpoint& ckpt) {
  const ModelConfig& c = ckpt.config();
  auto get = [&](const std::string& name) { return ckpt.Float32(name); };
  ModelWeights w;
  w.embed = get("embed_tokens.weight");
  w.final_norm = get("norm.weight");
  if (!c.tie_word_embeddings) w.lm_head = get("lm_head.weight");
  if (c.has_ple()) {
    w.ple_embed = get("embed_tokens_per_layer.weight");
    w.ple_model_proj = get("per_layer_model_projection.weight");
    w.ple_proj_norm = get("per_layer_projection_norm.weight");
  }
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    const bool owns = c.layers[size_t(l)].owns_kv(l);
    LayerWeights lw;
    lw.input_norm = get(p + "input_layernorm.weight");
    lw.post_attn_norm = get(p + "post_attention_layernorm.weight");
    lw.pre_ffn_norm = get(p + "pre_feedforward_layernorm.weight");
    lw.post_ffn_norm = get(p + "post_feedforward_layernorm.weight");
    lw.q_proj = get(p + "self_attn.q_proj.weight");
    lw.q_norm = get(p + "self_attn.q_norm.weight");
    lw.o_proj = get(p + "self_attn.o_proj.weight");
    if (owns) {  // HF ignores k/v weights that a KV-shared layer's file may still carry
      lw.k_proj = get(p + "self_attn.k_proj.weight");
      lw.k_norm = get(p + "self_attn.k_norm.weight");
      if (c.layers[size_t(l)].has_v) lw.v_proj = get(p + "self_attn.v_proj.weight");
    }
    lw.gate = get(p + "mlp.gate_proj.weight");
    lw.up = get(p + "mlp.up_proj.weight");
    lw.down = get(p + "mlp.down_proj.weight");
    lw.layer_scalar = get(p + "layer_scalar").at(0);
    if (c.has_moe()) {
      lw.router_proj = get(p + "router.proj.weight");
      lw.router_scale = get(p + "router.scale");
      lw.per_expert_scale = get(p + "router.per_expert_scale");
      lw.experts_gate_up = get(p + "experts.gate_up_proj");
      lw.experts_down = get(p + "experts.down_proj");
      lw.pre_ffn_norm_2 = get(p + "pre_feedforward_layernorm_2.weight");
      lw.post_ffn_norm_1 = get(p + "post_feedforward_layernorm_1.weight");
      lw.post_ffn_norm_2 = get(p + "post_feedforward_layernorm_2.weight");
    }
    if (c.has_ple()) {
      lw.ple_gate = get(p + "per_layer_input_gate.weight");
      lw.ple_proj = get(p + "per_layer_projection.weight");
      lw.ple_post_norm = get(p + "post_per_layer_input_norm.weight");
    }
    w.layers.push_back(std::move(lw));
  }
  return w;
}

// ---------------------------------------------------------------------------------------------
// KV cache

KvCache::KvCache(const ModelConfig& config, DType storage, bool rotate)
    : info_(config.layers), layers_(config.layers.size()), storage_(storage), rotate_(rotate) {}

int KvCache::slots(int layer) const { return layers_.at(size_t(layer)).slots; }

void KvCache::Reset() {
  for (Layer& L : layers_) L = Layer{};
  n_past_ = 0;
}

bool KvCache::Truncate(int n) {
  if (n < 0 || n > n_past_) return false;
  for (size_t l = 0; l < layers_.size(); ++l) {
    const LayerInfo& li = info_[l];
    // Positions n - W + 1 .. n - 1 live in slot j % slots unless a later position overwrote them.
    if (li.owns_kv(int(l)) && !li.full && n_past_ - n > layers_[l].slots - li.window + 1) return false;
  }
  n_past_ = n;
  return true;
}

void KvCache::Reserve(int start, int n) {
  for (size_t l = 0; l < layers_.size(); ++l) {
    const LayerInfo& li = info_[l];
    if (!li.owns_kv(int(l))) continue;
    Layer& L = layers_[l];
    const size_t row = Sz(li.n_kv_heads, li.head_dim);
    // Full: slot j = position j, so growing never moves anything. Sliding: W-1 history + chunk.
    const int need = li.full ? start + n : li.window - 1 + n;
    if (need <= L.slots) continue;
    if (li.full) {
      L.k.resize(Sz(need) * row);
      L.v.resize(Sz(need) * row);
    } else {
      // Re-lay the ring: positions keep slot j % slots, so copy the history the next chunk needs.
      std::vector<float> k(Sz(need) * row), v(Sz(need) * row);
      const int first = std::max(0, start - (li.window - 1));
      for (int j = first; j < start; ++j) {
        std::copy_n(L.k.begin() + std::ptrdiff_t(Sz(j % L.slots) * row), row,
                    k.begin() + std::ptrdiff_t(Sz(j % need) * row));
        std::copy_n(L.v.begin() + std::ptrdiff_t(Sz(j % L.slots) * row), row,
                    v.begin() + std::ptrdiff_t(Sz(j % need) * row));
      }
      L.k = std::move(k);
      L.v = std::move(v);
    }
    L.slots = need;
  }
}

// ---------------------------------------------------------------------------------------------
// Model

Model::Model(const Checkpoint& ckpt) : Model(ckpt.config(), ModelWeights::Load(ckpt)) {}

Model::Model(ModelConfig config, ModelWeights weights) : config_(std::move(config)), weights_(std::move(weights)) {
  for (const LayerInfo& li : config_.layers) {
    inv_freq_.push_back(RopeInvFreq(li.head_dim, li.rope_theta, li.rope_pairs));
  }
}

std::vector<float> Model::PerLayerInputs(std::span<const int32_t> tokens, const std::vector<float>& x0) const {
  const int T = int(tokens.size()), H = config_.hidden_size, L = config_.num_hidden_layers;
  const int P = config_.hidden_size_per_layer_input, LP = L * P;
  // Token part: the PLE table row (layer-major [L][P]) times bf16(sqrt(P)). Ids outside the PLE
  // vocabulary read row 0 (<pad>), as HF masks them.
  std::vector<int32_t> ids(tokens.begin(), tokens.end());
  for (int32_t& id : ids) {
    if (id < 0 || id >= config_.vocab_size_per_layer_input) id = 0;
  }
  std::vector<float> tok(Sz(T, LP));
  Embed(weights_.ple_embed.data(), config_.vocab_size_per_layer_input, LP, ids.data(), T, config_.ple_embed_scale(),
        tok.data());
  // Context part: rmsnorm_P(W_plmp x0 * H^-0.5), normalised per layer slice of P values.
  std::vector<float> ctx(Sz(T, LP));
  MatMul(weights_.ple_model_proj.data(), x0.data(), ctx.data(), T, LP, H);
  AddScaled(ctx.data(), nullptr, ctx.data(), ctx.size(), float(1.0 / std::sqrt(double(H))));
  RmsNorm(ctx.data(), weights_.ple_proj_norm.data(), ctx.data(), T * L, P, config_.rms_norm_eps);
  // ple = (ctx + tok) * 2^-0.5                                          // [T][L][P]
  AddScaled(ctx.data(), tok.data(), ctx.data(), ctx.size(), float(1.0 / std::sqrt(2.0)));
  return ctx;
}

void Model::AttentionBlock(int l, std::vector<float>& x, int T, int start_pos, KvCache& cache,
                           const std::vector<int32_t>& positions, const std::vector<int32_t>& last_key) const {
  const LayerInfo& li = config_.layers[size_t(l)];
  const LayerWeights& w = weights_.layers[size_t(l)];
  const int H = config_.hidden_size, NH = config_.num_attention_heads;
  const int D = li.head_dim, KVH = li.n_kv_heads;
  const float eps = config_.rms_norm_eps;
  const float* inv_freq = inv_freq_[size_t(l)].data();

  std::vector<float> a(Sz(T, H));  // [T][H]
  RmsNorm(x.data(), w.input_norm.data(), a.data(), T, H, eps);

  // q = rope(q_norm(Wq a)) per head; norm THEN rope (§2.4).          // [T][NH][D]
  std::vector<float> q(Sz(T, NH, D));
  MatMul(w.q_proj.data(), a.data(), q.data(), T, NH * D, H);
  RmsNorm(q.data(), w.q_norm.data(), q.data(), T * NH, D, eps);
  Rope(q.data(), T, NH, D, positions.data(), inv_freq);

  if (li.owns_kv(l)) {
    std::vector<float> k(Sz(T, KVH, D)), v(Sz(T, KVH, D));  // [T][KVH][D]
    MatMul(w.k_proj.data(), a.data(), k.data(), T, KVH * D, H);
    if (li.has_v) {
      MatMul(w.v_proj.data(), a.data(), v.data(), T, KVH * D, H);
    } else {
      v = k;  // k_eq_v: V is the RAW K projection, before k_norm and RoPE
    }
    RmsNorm(k.data(), w.k_norm.data(), k.data(), T * KVH, D, eps);
    Rope(k.data(), T, KVH, D, positions.data(), inv_freq);
    RmsNorm(v.data(), nullptr, v.data(), T * KVH, D, eps);  // v_norm has no weight
    KvCache::Layer& C = cache.layers_[size_t(l)];
    const size_t row = Sz(KVH, D);
    for (int t = 0; t < T; ++t) {
      const size_t slot = Sz((start_pos + t) % C.slots);
      std::copy_n(k.begin() + std::ptrdiff_t(Sz(t) * row), row, C.k.begin() + std::ptrdiff_t(slot * row));
      std::copy_n(v.begin() + std::ptrdiff_t(Sz(t) * row), row, C.v.begin() + std::ptrdiff_t(slot * row));
      RoundTripKv(cache.storage_, &C.k[slot * row], row, uint32_t(D), cache.rotate_);  // the device's format
      RoundTripKv(cache.storage_, &C.v[slot * row], row, uint32_t(D), cache.rotate_);
    }
  }
  // KV-shared layers read their source's cache (already normed and roped); same mask type.
  const KvCache::Layer& C = cache.layers_[size_t(li.kv_source_layer)];
  std::vector<float> o(Sz(T, NH, D));
  Attention(q.data(), C.k.data(), C.v.data(), o.data(),
            AttentionShape{.tokens = T,
                           .start_pos = start_pos,
                           .n_heads = NH,
                           .n_kv_heads = KVH,
                           .head_dim = D,
                           .cache_len = C.slots,
                           .window = li.window,
                           .scale = 1.f,  // Gemma 4: no 1/sqrt(D), QK-norm replaces it
                           .last_key = !li.full && !last_key.empty() ? last_key.data() : nullptr});

  std::vector<float> y(Sz(T, H));
  MatMul(w.o_proj.data(), o.data(), y.data(), T, H, NH * D);
  RmsNorm(y.data(), w.post_attn_norm.data(), y.data(), T, H, eps);  // norm on y alone, then add
  AddInPlace(x, y);
}

void Model::Mlp(const float* gate, const float* up, const float* down, int I, const float* m, float* out, int T) const {
  const int H = config_.hidden_size;
  std::vector<float> g(Sz(T, I)), u(Sz(T, I));  // [T][I]
  MatMul(gate, m, g.data(), T, I, H);
  MatMul(up, m, u.data(), T, I, H);
  GeluMul(g.data(), u.data(), g.data(), g.size());
  MatMul(down, g.data(), out, T, H, I);
}

void Model::FfnBlock(int l, std::vector<float>& x, int T) const {
  const LayerInfo& li = config_.layers[size_t(l)];
  const LayerWeights& w = weights_.layers[size_t(l)];
  const int H = config_.hidden_size;
  const float eps = config_.rms_norm_eps;

  // Dense MLP (on MoE models it runs beside the experts as the "shared" branch).
  std::vector<float> m(Sz(T, H)), h1(Sz(T, H));
  RmsNorm(x.data(), w.pre_ffn_norm.data(), m.data(), T, H, eps);
  Mlp(w.gate.data(), w.up.data(), w.down.data(), li.ffn_dim, m.data(), h1.data(), T);
  if (!config_.has_moe()) {
    RmsNorm(h1.data(), w.post_ffn_norm.data(), h1.data(), T, H, eps);
    AddInPlace(x, h1);
    return;
  }
  RmsNorm(h1.data(), w.post_ffn_norm_1.data(), h1.data(), T, H, eps);

  // Router on the un-normed residual: rmsnorm_noweight(x) * scale * H^-0.5, then proj (§2.7).
  const int E = config_.num_experts, K = config_.top_k_experts, I = config_.moe_intermediate_size;
  std::vector<float> z(Sz(T, H)), logits(Sz(T, E));
  RmsNorm(x.data(), nullptr, z.data(), T, H, eps);
  const float root = float(1.0 / std::sqrt(double(H)));
  for (int t = 0; t < T; ++t) {
    for (int i = 0; i < H; ++i) z[Sz(t, H) + size_t(i)] *= w.router_scale[size_t(i)] * root;
  }
  MatMul(w.router_proj.data(), z.data(), logits.data(), T, E, H);
  // softmax over all E -> top-k -> renormalise == softmax over the k largest; * per_expert_scale.
  std::vector<int32_t> ids(Sz(T, K));
  std::vector<float> wts(Sz(T, K));
  TopKSoftmax(logits.data(), T, E, K, w.per_expert_scale.data(), ids.data(), wts.data());

  // Experts read pre_feedforward_layernorm_2(x); h2 = sum_j w_j * expert_j(u).   // [T][H]
  std::vector<float> u(Sz(T, H)), h2(Sz(T, H), 0.f), e_out(Sz(H));
  RmsNorm(x.data(), w.pre_ffn_norm_2.data(), u.data(), T, H, eps);
  for (int t = 0; t < T; ++t) {
    for (int j = 0; j < K; ++j) {
      const int e = ids[Sz(t, K) + size_t(j)];
      const float* gate = w.experts_gate_up.data() + Sz(e, 2 * I, H);  // rows [0, I)
      const float* up = gate + Sz(I, H);                               // rows [I, 2I)
      const float* down = w.experts_down.data() + Sz(e, H, I);
      Mlp(gate, up, down, I, u.data() + Sz(t, H), e_out.data(), 1);
      AddScaled(e_out.data(), nullptr, e_out.data(), e_out.size(), wts[Sz(t, K) + size_t(j)]);
      AddScaled(h2.data() + Sz(t, H), e_out.data(), h2.data() + Sz(t, H), Sz(H), 1.f);
    }
  }
  RmsNorm(h2.data(), w.post_ffn_norm_2.data(), h2.data(), T, H, eps);
  // x = x + post_feedforward_layernorm(h1 + h2)
  AddInPlace(h1, h2);
  RmsNorm(h1.data(), w.post_ffn_norm.data(), h1.data(), T, H, eps);
  AddInPlace(x, h1);
}

void Model::PleBlock(int l, std::vector<float>& x, int T, const std::vector<float>& ple) const {
  const LayerWeights& w = weights_.layers[size_t(l)];
  const int H = config_.hidden_size, L = config_.num_hidden_layers;
  const int P = config_.hidden_size_per_layer_input;
  std::vector<float> g(Sz(T, P)), p(Sz(T, H));
  MatMul(w.ple_gate.data(), x.data(), g.data(), T, P, H);
  for (int t = 0; t < T; ++t) {
    // g = gelu(W_gate x) * ple[t][l]
    GeluMul(g.data() + Sz(t, P), ple.data() + Sz(t, L, P) + Sz(l, P), g.data() + Sz(t, P), Sz(P));
  }
  MatMul(w.ple_proj.data(), g.data(), p.data(), T, H, P);
  RmsNorm(p.data(), w.ple_post_norm.data(), p.data(), T, H, config_.rms_norm_eps);
  AddInPlace(x, p);
}

std::vector<float> Model::Forward(std::span<const int32_t> tokens, int start_pos, KvCache& cache,
                                  const LayerObserver& observer) const {
  return ForwardWithImages(tokens, start_pos, cache, {}, observer);
}

std::vector<float> Model::ForwardWithImages(std::span<const int32_t> tokens, int start_pos, KvCache& cache,
                                            std::span<const float> soft_tokens, const LayerObserver& observer) const {
  if (start_pos != cache.n_past()) {
    throw std::invalid_argument("ref::Model::Forward: start_pos " + std::to_string(start_pos) +
                                " but the cache holds " + std::to_string(cache.n_past()) + " positions");
  }
  if (cache.layers_.size() != config_.layers.size()) {
    throw std::invalid_argument("ref::Model::Forward: KV cache built for another config");
  }
  const int T = int(tokens.size()), H = config_.hidden_size, V = config_.vocab_size;
  if (T == 0) return {};
  std::vector<int32_t> positions(Sz(T));
  for (int t = 0; t < T; ++t) positions[size_t(t)] = start_pos + t;  // absolute, no offset
  cache.Reserve(start_pos, T);

  // Image positions (§5.3): embedded as <pad>, then replaced by their soft tokens (unscaled).
  std::vector<int32_t> ids(tokens.begin(), tokens.end());
  std::vector<int32_t> last_key;  // [T] on sliding layers with bidirectional image runs
  const bool images = !soft_tokens.empty();
  size_t n_image = 0;
  // Audio positions take soft tokens too (§5.6), in prompt order among the images'; never bidirectional.
  const int audio_id = config_.mm.has_audio ? config_.mm.audio_token_id : -1;
  auto soft_row = [&](int32_t id) { return id == config_.mm.image_token_id || id == audio_id; };
  if (images) {
    for (int32_t& id : ids) {
      if (soft_row(id)) {
        id = config_.pad_token_id;
        ++n_image;
      }
    }
    if (soft_tokens.size() != n_image * size_t(H)) {
      throw std::invalid_argument("ref::Model::ForwardWithImages: " + std::to_string(soft_tokens.size() / size_t(H)) +
                                  " soft tokens for " + std::to_string(n_image) + " image and audio tokens");
    }
    if (config_.mm.bidirectional_vision) {
      last_key = positions;
      for (const ImageSpan& s :
           FindImageSpans(std::vector<int32_t>(tokens.begin(), tokens.end()), config_.mm.image_token_id)) {
        for (int t = s.start; t < s.start + s.length; ++t) last_key[size_t(t)] = start_pos + s.start + s.length - 1;
      }
    }
  }

  // x0 = Embed[id] * bf16(sqrt(H))                                       // [T][H]  (§2.2)
  std::vector<float> x(Sz(T, H));
  Embed(weights_.embed.data(), V, H, ids.data(), T, config_.embed_scale(), x.data());
  if (images) {
    size_t next = 0;
    for (int t = 0; t < T; ++t) {
      if (!soft_row(tokens[size_t(t)])) continue;
      std::copy_n(soft_tokens.begin() + std::ptrdiff_t(next++ * size_t(H)), H, x.begin() + std::ptrdiff_t(Sz(t, H)));
    }
  }
  std::vector<float> ple;  // [T][L][P]: token part from ids (pad at images), context part from x
  if (config_.has_ple()) ple = PerLayerInputs(ids, x);

  for (int l = 0; l < config_.num_hidden_layers; ++l) {
    AttentionBlock(l, x, T, start_pos, cache, positions, last_key);
    FfnBlock(l, x, T);
    if (config_.has_ple()) PleBlock(l, x, T, ple);
    // layer_scalar scales the whole residual stream, after PLE (§2.7).
    AddScaled(x.data(), nullptr, x.data(), x.size(), weights_.layers[size_t(l)].layer_scalar);
    if (observer) observer(l, x.data(), T);
  }
  cache.n_past_ = start_pos + T;

  // logits = softcap(final_norm(x) @ Embed^T)  (tied head: the UNscaled embedding)  (§2.8)
  RmsNorm(x.data(), weights_.final_norm.data(), x.data(), T, H, config_.rms_norm_eps);
  const std::vector<float>& head = config_.tie_word_embeddings ? weights_.embed : weights_.lm_head;
  std::vector<float> logits(Sz(T, V));  // [T][V]
  MatMul(head.data(), x.data(), logits.data(), T, V, H);
  if (config_.final_logit_softcapping > 0.f) {
    Softcap(logits.data(), logits.size(), config_.final_logit_softcapping);
  }
  return logits;
}

}  // namespace vkg::ref
