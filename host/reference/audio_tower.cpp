// CPU reference of the Gemma 4 audio tower (layer: host/reference). Plain float32 from ref_ops;
// each step cites docs/model.md §5.5 and follows HF's modeling_gemma4.py (Gemma4AudioModel).
#include "host/reference/audio_tower.h"

#include <algorithm>
#include <cmath>

#include "host/error.h"
#include "host/model/tensor_names.h"
#include "host/reference/ref_ops.h"

namespace vkg::ref {
namespace {

size_t Sz(int64_t a, int64_t b = 1) { return size_t(a) * size_t(b); }

// HF's Gemma4RMSNorm default: the feed-forwards' and the layer's own norms do not take the
// config's eps (only the light conv block's, the subsampling LayerNorms and embed_audio do).
constexpr float kDefaultEps = 1e-6f;

void Clamp(float* x, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; ++i) x[i] = std::min(std::max(x[i], lo), hi);
}

float Softplus(float x) { return x > 20.f ? x : std::log1p(std::exp(x)); }  // torch's threshold 20

}  // namespace

std::vector<float> AudioConvNormRelu(const std::vector<float>& in, int Tin, int Fin, int Cin,
                                     const std::vector<float>& w, const std::vector<float>& norm, int Cout, float eps) {
  const int Tout = (Tin - 1) / 2 + 1, Fout = (Fin - 1) / 2 + 1;
  std::vector<float> out(Sz(Tout, Fout) * size_t(Cout));
  std::vector<double> acc(static_cast<size_t>(Cout));
  for (int t = 0; t < Tout; ++t) {
    for (int f = 0; f < Fout; ++f) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int dt = 0; dt < 3; ++dt) {
        const int ti = 2 * t + dt - 1;
        if (ti < 0 || ti >= Tin) continue;
        for (int df = 0; df < 3; ++df) {
          const int fi = 2 * f + df - 1;
          if (fi < 0 || fi >= Fin) continue;
          const float* x = in.data() + (Sz(ti, Fin) + size_t(fi)) * size_t(Cin);
          for (int co = 0; co < Cout; ++co) {
            double a = 0;
            for (int ci = 0; ci < Cin; ++ci) a += double(x[ci]) * w[((Sz(co, Cin) + size_t(ci)) * 3 + dt) * 3 + df];
            acc[size_t(co)] += a;
          }
        }
      }
      // LayerNorm over channels (two-pass mean and biased variance, as torch), weight, no bias.
      double mean = 0, var = 0;
      for (int co = 0; co < Cout; ++co) mean += float(acc[size_t(co)]);
      mean /= Cout;
      for (int co = 0; co < Cout; ++co) var += (float(acc[size_t(co)]) - mean) * (float(acc[size_t(co)]) - mean);
      var /= Cout;
      const double inv = 1.0 / std::sqrt(var + eps);
      float* o = out.data() + (Sz(t, Fout) + size_t(f)) * size_t(Cout);
      for (int co = 0; co < Cout; ++co) {
        o[co] = std::max(0.f, float((float(acc[size_t(co)]) - mean) * inv) * norm[size_t(co)]);
      }
    }
  }
  return out;
}

std::vector<float> AudioLocalAttention(const std::vector<float>& q, const std::vector<float>& k,
                                       const std::vector<float>& v, const std::vector<float>& rel,
                                       const std::vector<float>& qs, int T, int heads, int D, int W, float k_scale,
                                       float cap) {
  const int stride = heads * D;
  std::vector<float> out(Sz(T, stride)), p(Sz(W));
  for (int t = 0; t < T; ++t) {
    for (int h = 0; h < heads; ++h) {
      const int seen = std::min(t + 1, W);  // keys t - seen + 1 .. t; the rest masked (exp -> 0)
      float m = -INFINITY;
      for (int d = 0; d < seen; ++d) {
        double s = 0;
        for (int i = 0; i < D; ++i) {
          const size_t c = Sz(h, D) + size_t(i);
          const double qi = double(q[Sz(t, stride) + c]) * qs[size_t(i)];
          s += qi * (double(k[Sz(t - d, stride) + c]) * k_scale) + qi * rel[Sz(d, stride) + c];
        }
        p[size_t(d)] = std::tanh(float(s) / cap) * cap;
        m = std::max(m, p[size_t(d)]);
      }
      double sum = 0;
      for (int d = 0; d < seen; ++d) sum += (p[size_t(d)] = std::exp(p[size_t(d)] - m));
      for (int i = 0; i < D; ++i) {
        double o = 0;
        for (int d = 0; d < seen; ++d) o += double(p[size_t(d)]) * v[Sz(t - d, stride) + Sz(h, D) + size_t(i)];
        out[Sz(t, stride) + Sz(h, D) + size_t(i)] = float(o / sum);
      }
    }
  }
  return out;
}

std::vector<float> AudioGluConv(const std::vector<float>& s, const std::vector<float>& w, int T, int H, int K) {
  std::vector<float> g(Sz(T, H)), out(Sz(T, H));
  for (int t = 0; t < T; ++t) {  // GLU: first half * sigmoid(second half)
    for (int i = 0; i < H; ++i) {
      const float a = s[Sz(t, 2 * H) + size_t(i)], b = s[Sz(t, 2 * H) + size_t(H + i)];
      g[Sz(t, H) + size_t(i)] = a * (1.f / (1.f + std::exp(-b)));
    }
  }
  for (int t = 0; t < T; ++t) {  // kernel tap j reads row t - (K - 1) + j (left zero padding)
    for (int i = 0; i < H; ++i) {
      double acc = 0;
      for (int j = 0; j < K; ++j) {
        const int r = t - (K - 1) + j;
        if (r >= 0) acc += double(g[Sz(r, H) + size_t(i)]) * w[Sz(i, K) + size_t(j)];
      }
      out[Sz(t, H) + size_t(i)] = float(acc);
    }
  }
  return out;
}

float Silu(float x) { return x / (1.f + std::exp(-x)); }

AudioWeights AudioWeights::Load(const Checkpoint& ckpt) {
  const ModelConfig& c = ckpt.config();
  if (!c.mm.has_audio) throw Error("this checkpoint has no audio tower (config.json has no audio_config)");
  CheckAudioTensors(c, ckpt.weights());
  const AudioConfig& a = c.mm.audio;
  auto get = [&](const std::string& name) { return ckpt.Float32(name); };
  auto linear = [&](const std::string& p) {
    ClippedLinear l;
    l.w = get(p + ".linear.weight");
    if (a.use_clipped_linears) {
      l.in_min = get(p + ".input_min").at(0);
      l.in_max = get(p + ".input_max").at(0);
      l.out_min = get(p + ".output_min").at(0);
      l.out_max = get(p + ".output_max").at(0);
    }
    return l;
  };
  auto ffw = [&](const std::string& p) {
    AudioFeedForwardWeights f;
    f.pre_norm = get(p + "pre_layer_norm.weight");
    f.post_norm = get(p + "post_layer_norm.weight");
    f.up = linear(p + "ffw_layer_1");
    f.down = linear(p + "ffw_layer_2");
    return f;
  };
  AudioWeights w;
  const std::string s = "audio_tower.subsample_conv_projection.";
  w.conv0 = get(s + "layer0.conv.weight");
  w.norm0 = get(s + "layer0.norm.weight");
  w.conv1 = get(s + "layer1.conv.weight");
  w.norm1 = get(s + "layer1.norm.weight");
  w.input_proj = get(s + "input_proj_linear.weight");
  for (int l = 0; l < a.num_hidden_layers; ++l) {
    const std::string p = "audio_tower.layers." + std::to_string(l) + ".";
    AudioLayerWeights lw;
    lw.ffw1 = ffw(p + "feed_forward1.");
    lw.ffw2 = ffw(p + "feed_forward2.");
    lw.norm_pre_attn = get(p + "norm_pre_attn.weight");
    lw.norm_post_attn = get(p + "norm_post_attn.weight");
    lw.norm_out = get(p + "norm_out.weight");
    lw.q = linear(p + "self_attn.q_proj");
    lw.k = linear(p + "self_attn.k_proj");
    lw.v = linear(p + "self_attn.v_proj");
    lw.post = linear(p + "self_attn.post");
    lw.relative_k = get(p + "self_attn.relative_k_proj.weight");
    lw.per_dim_scale = get(p + "self_attn.per_dim_scale");
    lw.lconv_pre_norm = get(p + "lconv1d.pre_layer_norm.weight");
    lw.lconv_conv_norm = get(p + "lconv1d.conv_norm.weight");
    lw.lconv_start = linear(p + "lconv1d.linear_start");
    lw.lconv_end = linear(p + "lconv1d.linear_end");
    lw.depthwise = get(p + "lconv1d.depthwise_conv1d.weight");
    w.layers.push_back(std::move(lw));
  }
  w.output_proj = get("audio_tower.output_proj.weight");
  w.output_bias = get("audio_tower.output_proj.bias");
  w.embed_proj = get("embed_audio.embedding_projection.weight");
  return w;
}

std::vector<float> AudioRelativePositions(const AudioConfig& a) {
  // HF: positions C/2 .. 0 (C = chunk + left - 1 + right), sinusoids of hidden / 2 timescales, and
  // a relative shift that pairs query i with context key j through row j - i. A key at distance d
  // (query - key, 0 <= d <= left - 2) sits at j - i = P - d (P = left - 1): the sinusoid of
  // C/2 - P + d, zero (the shift's padding) where that is negative.
  const int Ha = a.hidden_size, n = Ha / 2, P = a.attention_context_left - 1;
  const int half = (a.attention_chunk_size + P + a.attention_context_right) / 2;
  const float inc = float(std::log(10000.0) / std::max(n - 1, 1));
  std::vector<float> table(Sz(P, Ha), 0.f);
  for (int d = 0; d < P; ++d) {
    const int value = half - P + d;
    if (value < 0) continue;
    for (int i = 0; i < n; ++i) {
      const float t = float(value) * std::exp(float(i) * -inc);
      table[Sz(d, Ha) + size_t(i)] = std::sin(t);
      table[Sz(d, Ha) + size_t(n + i)] = std::cos(t);
    }
  }
  return table;
}

AudioTower::AudioTower(const ModelConfig& config, AudioWeights weights)
    : a_(config.mm.audio), text_hidden_(config.hidden_size), weights_(std::move(weights)) {
  positions_ = AudioRelativePositions(a_);
}

void AudioTower::Linear(const ClippedLinear& l, const float* x, float* y, int T, int out, int in) const {
  std::vector<float> xc(x, x + Sz(T, in));
  Clamp(xc.data(), xc.size(), l.in_min, l.in_max);
  MatMul(l.w.data(), xc.data(), y, T, out, in);
  Clamp(y, Sz(T, out), l.out_min, l.out_max);
}

std::vector<float> AudioTower::Subsample(const AudioFeatures& clip) const {
  CheckAudioFeatures(clip, "audio clip");
  const int T0 = clip.valid_frames, F0 = AudioFeatures::kMelBins;
  const int C0 = a_.subsampling_channels0, C1 = a_.subsampling_channels1, Ha = a_.hidden_size;
  // Only the valid frames: HF zeroes the rest before each conv, and a valid output row never reads
  // past them but into zeros, the same as the convolution's own padding.
  const std::vector<float> in(clip.mel.begin(), clip.mel.begin() + std::ptrdiff_t(Sz(T0, F0)));  // [T0][128][1]
  const int T1 = (T0 - 1) / 2 + 1, F1 = (F0 - 1) / 2 + 1, T2 = (T1 - 1) / 2 + 1, F2 = (F1 - 1) / 2 + 1;
  const std::vector<float> h0 =
      AudioConvNormRelu(in, T0, F0, 1, weights_.conv0, weights_.norm0, C0, a_.rms_norm_eps);  // [T1][F1][C0]
  const std::vector<float> h1 =
      AudioConvNormRelu(h0, T1, F1, C0, weights_.conv1, weights_.norm1, C1, a_.rms_norm_eps);  // [T2][F2][C1]
  // (time, bin, channel) flattened per row -> input_proj_linear                      // [T2][Ha]
  std::vector<float> x(Sz(T2, Ha));
  MatMul(weights_.input_proj.data(), h1.data(), x.data(), T2, Ha, F2 * C1);
  return x;
}

void AudioTower::FeedForward(const AudioFeedForwardWeights& w, std::vector<float>& x, int T) const {
  // x + r * post_norm(clamp(down(silu(up(pre_norm(clamp(x))))))), r = residual_weight (0.5).
  const int Ha = a_.hidden_size;
  const float g = a_.gradient_clipping;
  std::vector<float> h(x);
  Clamp(h.data(), h.size(), -g, g);
  RmsNorm(h.data(), w.pre_norm.data(), h.data(), T, Ha, kDefaultEps);
  std::vector<float> u(Sz(T, 4 * Ha));
  Linear(w.up, h.data(), u.data(), T, 4 * Ha, Ha);
  for (float& v : u) v = Silu(v);
  Linear(w.down, u.data(), h.data(), T, Ha, 4 * Ha);
  Clamp(h.data(), h.size(), -g, g);
  RmsNorm(h.data(), w.post_norm.data(), h.data(), T, Ha, kDefaultEps);
  for (size_t i = 0; i < x.size(); ++i) x[i] += h[i] * a_.residual_weight;
}

void AudioTower::Attention(const AudioLayerWeights& w, const std::vector<float>& x, std::vector<float>& out,
                           int T) const {
  // Chunked local attention, as a sliding window: query t sees keys t - W + 1 .. t (W = left - 1),
  // HF's blocks of `chunk` queries and their context are exactly these keys once masked.
  const int Ha = a_.hidden_size, NH = a_.num_attention_heads, D = a_.head_dim(), W = a_.attention_context_left - 1;
  std::vector<float> q(Sz(T, Ha)), k(Sz(T, Ha)), v(Sz(T, Ha)), rel(Sz(W, Ha));
  Linear(w.q, x.data(), q.data(), T, Ha, Ha);
  Linear(w.k, x.data(), k.data(), T, Ha, Ha);
  Linear(w.v, x.data(), v.data(), T, Ha, Ha);
  MatMul(w.relative_k.data(), positions_.data(), rel.data(), W, Ha, Ha);  // [W][NH][D]
  const float q_scale = float(1.0 / std::sqrt(double(D)) / std::log(2.0));
  const float k_scale = float(std::log(1.0 + std::exp(1.0)) / std::log(2.0));
  std::vector<float> qs(Sz(D));
  for (int i = 0; i < D; ++i) qs[size_t(i)] = q_scale * Softplus(w.per_dim_scale[size_t(i)]);
  out = AudioLocalAttention(q, k, v, rel, qs, T, NH, D, W, k_scale, a_.attention_logit_cap);
}

void AudioTower::LightConv(const AudioLayerWeights& w, std::vector<float>& x, int T) const {
  // x + end(silu(conv_norm(clamp(depthwise_causal(glu(start(pre_norm(x))))))))
  const int Ha = a_.hidden_size, K = a_.conv_kernel_size;
  const float g = a_.gradient_clipping, eps = a_.rms_norm_eps;
  std::vector<float> h(Sz(T, Ha)), s(Sz(T, 2 * Ha));
  RmsNorm(x.data(), w.lconv_pre_norm.data(), h.data(), T, Ha, eps);
  Linear(w.lconv_start, h.data(), s.data(), T, 2 * Ha, Ha);
  std::vector<float> c = AudioGluConv(s, w.depthwise, T, Ha, K);
  Clamp(c.data(), c.size(), -g, g);
  RmsNorm(c.data(), w.lconv_conv_norm.data(), c.data(), T, Ha, eps);
  for (float& v : c) v = Silu(v);
  Linear(w.lconv_end, c.data(), h.data(), T, Ha, Ha);
  for (size_t i = 0; i < x.size(); ++i) x[i] += h[i];
}

void AudioTower::Layer(const AudioLayerWeights& w, std::vector<float>& x, int T) const {
  const int Ha = a_.hidden_size;
  const float g = a_.gradient_clipping;
  FeedForward(w.ffw1, x, T);
  std::vector<float> h(x), o(Sz(T, Ha)), y(Sz(T, Ha));
  Clamp(h.data(), h.size(), -g, g);
  RmsNorm(h.data(), w.norm_pre_attn.data(), h.data(), T, Ha, kDefaultEps);
  Attention(w, h, o, T);
  Linear(w.post, o.data(), y.data(), T, Ha, Ha);
  Clamp(y.data(), y.size(), -g, g);
  RmsNorm(y.data(), w.norm_post_attn.data(), y.data(), T, Ha, kDefaultEps);
  for (size_t i = 0; i < x.size(); ++i) x[i] += y[i];
  LightConv(w, x, T);
  FeedForward(w.ffw2, x, T);
  Clamp(x.data(), x.size(), -g, g);
  RmsNorm(x.data(), w.norm_out.data(), x.data(), T, Ha, kDefaultEps);
}

std::vector<float> AudioTower::EncodeHidden(const AudioFeatures& clip) const {
  std::vector<float> x = Subsample(clip);
  const int T = clip.soft_tokens;
  for (const AudioLayerWeights& w : weights_.layers) Layer(w, x, T);
  return x;
}

std::vector<float> AudioTower::Encode(const AudioFeatures& clip) const {
  const std::vector<float> x = EncodeHidden(clip);
  const int T = clip.soft_tokens, Ha = a_.hidden_size, O = a_.output_proj_dims, H = text_hidden_;
  // output_proj (with bias), then embed_audio: unscaled RMSNorm (audio eps), projection to H.
  std::vector<float> y(Sz(T, O));
  MatMul(weights_.output_proj.data(), x.data(), y.data(), T, O, Ha);
  for (int t = 0; t < T; ++t)
    for (int o = 0; o < O; ++o) y[Sz(t, O) + size_t(o)] += weights_.output_bias[size_t(o)];
  RmsNorm(y.data(), nullptr, y.data(), T, O, a_.rms_norm_eps);
  std::vector<float> soft(Sz(T, H));
  MatMul(weights_.embed_proj.data(), y.data(), soft.data(), T, H, O);
  return soft;
}

}  // namespace vkg::ref
