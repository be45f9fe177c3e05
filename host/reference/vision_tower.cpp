// CPU reference of the Gemma 4 vision tower (layer: host/reference). Plain float32 from ref_ops;
// each step cites docs/model.md §5.2 and follows HF's modeling_gemma4.py.
#include "host/reference/vision_tower.h"

#include <algorithm>
#include <cmath>

#include "host/error.h"
#include "host/model/tensor_names.h"
#include "host/reference/ref_ops.h"

namespace vkg::ref {
namespace {

size_t Sz(int64_t a, int64_t b = 1) { return size_t(a) * size_t(b); }

void Clamp(float* x, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; ++i) x[i] = std::min(std::max(x[i], lo), hi);
}

}  // namespace

VisionWeights VisionWeights::Load(const Checkpoint& ckpt) {
  const ModelConfig& c = ckpt.config();
  if (!c.mm.has_vision) throw Error("this checkpoint has no vision tower (config.json has no vision_config)");
  CheckVisionTensors(c, ckpt.weights());
  const VisionConfig& v = c.mm.vision;
  auto get = [&](const std::string& name) { return ckpt.Float32(name); };
  auto linear = [&](const std::string& p) {
    ClippedLinear l;
    l.w = get(p + ".linear.weight");
    if (v.use_clipped_linears) {
      l.in_min = get(p + ".input_min").at(0);
      l.in_max = get(p + ".input_max").at(0);
      l.out_min = get(p + ".output_min").at(0);
      l.out_max = get(p + ".output_max").at(0);
    }
    return l;
  };
  VisionWeights w;
  w.patch_proj = get("vision_tower.patch_embedder.input_proj.weight");
  w.position_table = get("vision_tower.patch_embedder.position_embedding_table");
  for (int l = 0; l < v.num_hidden_layers; ++l) {
    const std::string p = "vision_tower.encoder.layers." + std::to_string(l) + ".";
    VisionLayerWeights lw;
    lw.input_norm = get(p + "input_layernorm.weight");
    lw.post_attn_norm = get(p + "post_attention_layernorm.weight");
    lw.pre_ffn_norm = get(p + "pre_feedforward_layernorm.weight");
    lw.post_ffn_norm = get(p + "post_feedforward_layernorm.weight");
    lw.q = linear(p + "self_attn.q_proj");
    lw.k = linear(p + "self_attn.k_proj");
    lw.v = linear(p + "self_attn.v_proj");
    lw.o = linear(p + "self_attn.o_proj");
    lw.q_norm = get(p + "self_attn.q_norm.weight");
    lw.k_norm = get(p + "self_attn.k_norm.weight");
    lw.gate = linear(p + "mlp.gate_proj");
    lw.up = linear(p + "mlp.up_proj");
    lw.down = linear(p + "mlp.down_proj");
    w.layers.push_back(std::move(lw));
  }
  if (v.standardize) {
    w.std_bias = get("vision_tower.std_bias");
    w.std_scale = get("vision_tower.std_scale");
  }
  w.embed_proj = get("embed_vision.embedding_projection.weight");
  return w;
}

VisionTower::VisionTower(const ModelConfig& config, VisionWeights weights)
    : v_(config.mm.vision), text_hidden_(config.hidden_size), weights_(std::move(weights)) {
  // HF: inv_freq over one spatial half, 1 / theta^(2i / (Dv/2)), the same for x and y (§5.2).
  inv_freq_ = RopeInvFreq(v_.head_dim / 2, v_.rope_theta, v_.head_dim / 4);
}

void VisionTower::Linear(const ClippedLinear& l, const float* x, float* y, int T, int out, int in) const {
  std::vector<float> xc(x, x + Sz(T, in));
  Clamp(xc.data(), xc.size(), l.in_min, l.in_max);
  MatMul(l.w.data(), xc.data(), y, T, out, in);
  Clamp(y, Sz(T, out), l.out_min, l.out_max);
}

void VisionTower::Layer(const VisionLayerWeights& w, std::vector<float>& x, const std::vector<int32_t>& positions,
                        int T) const {
  const int Hv = v_.hidden_size, NH = v_.num_attention_heads, KVH = v_.num_key_value_heads, D = v_.head_dim;
  const int Iv = v_.intermediate_size;
  const float eps = v_.rms_norm_eps;

  // Attention block: every patch sees every patch of its image (bidirectional, scale 1).
  std::vector<float> a(Sz(T, Hv));
  RmsNorm(x.data(), w.input_norm.data(), a.data(), T, Hv, eps);
  std::vector<float> q(Sz(T, NH * D)), k(Sz(T, KVH * D)), v(Sz(T, KVH * D));  // [T][heads][D]
  Linear(w.q, a.data(), q.data(), T, NH * D, Hv);
  Linear(w.k, a.data(), k.data(), T, KVH * D, Hv);
  Linear(w.v, a.data(), v.data(), T, KVH * D, Hv);
  RmsNorm(q.data(), w.q_norm.data(), q.data(), T * NH, D, eps);
  RmsNorm(k.data(), w.k_norm.data(), k.data(), T * KVH, D, eps);
  RmsNorm(v.data(), nullptr, v.data(), T * KVH, D, eps);  // v_norm: no weight
  Rope2D(q.data(), T, NH, D, positions.data(), inv_freq_.data());
  Rope2D(k.data(), T, KVH, D, positions.data(), inv_freq_.data());
  std::vector<int32_t> last(Sz(T), T - 1);
  std::vector<float> o(Sz(T, NH * D));
  Attention(q.data(), k.data(), v.data(), o.data(),
            AttentionShape{.tokens = T,
                           .start_pos = 0,
                           .n_heads = NH,
                           .n_kv_heads = KVH,
                           .head_dim = D,
                           .cache_len = T,
                           .window = 0,
                           .scale = 1.f,
                           .last_key = last.data()});
  std::vector<float> y(Sz(T, Hv));
  Linear(w.o, o.data(), y.data(), T, Hv, NH * D);
  RmsNorm(y.data(), w.post_attn_norm.data(), y.data(), T, Hv, eps);
  AddScaled(x.data(), y.data(), x.data(), x.size(), 1.f);

  // Gated MLP: down(gelu_tanh(gate m) * up m), every linear clipped.
  std::vector<float> m(Sz(T, Hv)), g(Sz(T, Iv)), u(Sz(T, Iv));
  RmsNorm(x.data(), w.pre_ffn_norm.data(), m.data(), T, Hv, eps);
  Linear(w.gate, m.data(), g.data(), T, Iv, Hv);
  Linear(w.up, m.data(), u.data(), T, Iv, Hv);
  GeluMul(g.data(), u.data(), g.data(), g.size());
  Linear(w.down, g.data(), y.data(), T, Hv, Iv);
  RmsNorm(y.data(), w.post_ffn_norm.data(), y.data(), T, Hv, eps);
  AddScaled(x.data(), y.data(), x.data(), x.size(), 1.f);
}

std::vector<float> VisionTower::EncodePatches(const ImagePatches& image) const {
  image.Check(v_, "image");
  const int T = image.count, Hv = v_.hidden_size, PV = v_.patch_values(), P = v_.position_embedding_size;
  // Patch embedding: W_in (2 (p - 0.5)) + table_x[x] + table_y[y]                    // [T][Hv]
  std::vector<float> px(image.pixels);
  for (float& p : px) p = 2.f * (p - 0.5f);
  std::vector<float> x(Sz(T, Hv));
  MatMul(weights_.patch_proj.data(), px.data(), x.data(), T, Hv, PV);
  for (int t = 0; t < T; ++t) {
    const float* tx = weights_.position_table.data() + Sz(image.positions[Sz(t) * 2], Hv);
    const float* ty = weights_.position_table.data() + Sz(P + image.positions[Sz(t) * 2 + 1], Hv);
    float* row = x.data() + Sz(t, Hv);
    for (int i = 0; i < Hv; ++i) row[i] += tx[i] + ty[i];  // (x_emb + y_emb) added as one, as HF
  }
  for (const VisionLayerWeights& w : weights_.layers) Layer(w, x, image.positions, T);
  return x;
}

std::vector<float> VisionTower::Encode(const ImagePatches& image) const {
  const std::vector<float> x = EncodePatches(image);
  const int T = image.count, Hv = v_.hidden_size, k = v_.pooling_kernel_size;
  const int S = image.soft_tokens(v_), H = text_hidden_;
  // 3x3 average pool by position: patch (x, y) -> soft token x/k + (W/k)(y/k).        // [S][Hv]
  int width = 0;
  for (int t = 0; t < T; ++t) width = std::max(width, image.positions[Sz(t) * 2] + 1);
  std::vector<float> pooled(Sz(S, Hv), 0.f);
  const float inv_k2 = 1.f / float(k * k);
  for (int t = 0; t < T; ++t) {
    const int s = image.positions[Sz(t) * 2] / k + (width / k) * (image.positions[Sz(t) * 2 + 1] / k);
    for (int i = 0; i < Hv; ++i) pooled[Sz(s, Hv) + size_t(i)] += x[Sz(t, Hv) + size_t(i)] * inv_k2;
  }
  // x sqrt(Hv) (in float32, as HF), then the optional standardize.
  const float root = float(std::sqrt(double(Hv)));
  for (int s = 0; s < S; ++s) {
    for (int i = 0; i < Hv; ++i) {
      float& p = pooled[Sz(s, Hv) + size_t(i)];
      p *= root;
      if (v_.standardize) p = (p - weights_.std_bias[size_t(i)]) * weights_.std_scale[size_t(i)];
    }
  }
  // embed_vision: unscaled RMSNorm (vision eps), then the projection to the text width.  // [S][H]
  RmsNorm(pooled.data(), nullptr, pooled.data(), S, Hv, v_.rms_norm_eps);
  std::vector<float> soft(Sz(S, H));
  MatMul(weights_.embed_proj.data(), pooled.data(), soft.data(), S, H, Hv);
  return soft;
}

}  // namespace vkg::ref
