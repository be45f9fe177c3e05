// The audio tower on the device (layer: host/runtime): weight upload and one clip's encode.
// Each step names the ref::AudioTower step it mirrors (docs/model.md §5.5).
#include "host/runtime/audio_tower_gpu.h"

#include <cmath>
#include <limits>

#include "host/device/gpu_context.h"
#include "host/error.h"
#include "host/model/audio_prompt.h"
#include "host/ops/audio.h"
#include "host/ops/elementwise.h"
#include "host/ops/matmul.h"
#include "host/ops/rms_norm.h"
#include "host/ops/vision.h"
#include "host/reference/audio_tower.h"
#include "host/reference/ref_ops.h"
#include "host/runtime/tower_weights.h"
#include "host/runtime/unified_media_gpu.h"
#include "vk/check.h"
#include "vk/command.h"

namespace vkg {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kDefaultEps = 1e-6f;  // HF's Gemma4RMSNorm default (the feed-forwards' and layer norms)

}  // namespace

GpuAudioTower::~GpuAudioTower() = default;

GpuAudioTower::GpuAudioTower(const WeightSource& source, GpuContext& gpu, DType format) : gpu_(gpu) {
  const ModelConfig& c = source.config();
  VKG_CHECK(c.mm.has_audio, "GpuAudioTower: the config has no audio tower");
  if (c.mm.audio_unified) {
    unified_ = std::make_unique<GpuUnifiedMedia>(source, gpu, format);
    return;
  }
  a_ = c.mm.audio;
  text_hidden_ = c.hidden_size;
  weights_ = std::make_unique<vk::BlockAllocator>(gpu.device(), vk::MemoryKind::kDeviceLocal, "audio weights");
  const uint32_t Ha = uint32_t(a_.hidden_size), D = uint32_t(a_.head_dim()), O = uint32_t(a_.output_proj_dims);
  const uint32_t W = uint32_t(a_.attention_context_left - 1);
  auto matrix = [&](const std::string& name, uint32_t rows, uint32_t cols) {
    return UploadTowerMatrix(source, gpu, *weights_, format, name, rows, cols);
  };
  auto upload = [&](const std::vector<float>& x) { return UploadTowerValues(gpu, *weights_, x); };
  auto vector = [&](const std::string& name) { return upload(source.Vector(name)); };
  auto scalar = [&](const std::string& name) { return source.Vector(name).at(0); };
  auto linear = [&](const std::string& p, uint32_t rows, uint32_t cols) {
    GpuClippedLinear l{matrix(p + ".linear.weight", rows, cols), -kInf, kInf, -kInf, kInf};
    if (a_.use_clipped_linears) {
      l.in_min = scalar(p + ".input_min");
      l.in_max = scalar(p + ".input_max");
      l.out_min = scalar(p + ".output_min");
      l.out_max = scalar(p + ".output_max");
    }
    return l;
  };
  auto ffw = [&](const std::string& p) {
    GpuAudioFeedForward f;
    f.pre_norm = vector(p + "pre_layer_norm.weight");
    std::vector<float> post = source.Vector(p + "post_layer_norm.weight");
    for (float& x : post) x *= a_.residual_weight;  // x + r * norm(y) == x + norm_{r w}(y)
    f.post_norm_half = upload(post);
    f.up = linear(p + "ffw_layer_1", 4 * Ha, Ha);
    f.down = linear(p + "ffw_layer_2", Ha, 4 * Ha);
    return f;
  };
  const std::string s = "audio_tower.subsample_conv_projection.";
  conv0_ = vector(s + "layer0.conv.weight");
  norm0_ = vector(s + "layer0.norm.weight");
  conv1_ = vector(s + "layer1.conv.weight");
  norm1_ = vector(s + "layer1.norm.weight");
  input_proj_ = matrix(s + "input_proj_linear.weight", Ha, uint32_t(a_.subsampled_width()));
  const std::vector<float> sinusoids = ref::AudioRelativePositions(a_);  // [W][Ha]
  const float q_scale = float(1.0 / std::sqrt(double(D)) / std::log(2.0));
  for (int l = 0; l < a_.num_hidden_layers; ++l) {
    const std::string p = "audio_tower.layers." + std::to_string(l) + ".";
    GpuAudioLayer w;
    w.ffw1 = ffw(p + "feed_forward1.");
    w.ffw2 = ffw(p + "feed_forward2.");
    w.norm_pre_attn = vector(p + "norm_pre_attn.weight");
    w.norm_post_attn = vector(p + "norm_post_attn.weight");
    w.norm_out = vector(p + "norm_out.weight");
    w.q = linear(p + "self_attn.q_proj", Ha, Ha);
    w.k = linear(p + "self_attn.k_proj", Ha, Ha);
    w.v = linear(p + "self_attn.v_proj", Ha, Ha);
    w.post = linear(p + "self_attn.post", Ha, Ha);
    // The relative keys depend on the weights only: W x Ha x Ha products once, on the host.
    std::vector<float> rk(size_t(Ha) * Ha), rel(size_t(W) * Ha);
    const RowSource rows = source.Rows(p + "self_attn.relative_k_proj.weight", Ha);
    for (uint32_t r = 0; r < Ha; ++r) rows(r, rk.data() + size_t(r) * Ha);
    ref::MatMul(rk.data(), sinusoids.data(), rel.data(), int(W), int(Ha), int(Ha));
    w.rel = upload(rel);
    w.rel.rows = W;
    w.rel.cols = Ha;
    std::vector<float> qs = source.Vector(p + "self_attn.per_dim_scale");
    for (float& x : qs) x = q_scale * (x > 20.f ? x : std::log1p(std::exp(x)));  // softplus, torch's threshold
    w.qs = upload(qs);
    w.lconv_pre_norm = vector(p + "lconv1d.pre_layer_norm.weight");
    w.lconv_conv_norm = vector(p + "lconv1d.conv_norm.weight");
    w.lconv_start = linear(p + "lconv1d.linear_start", 2 * Ha, Ha);
    w.lconv_end = linear(p + "lconv1d.linear_end", Ha, Ha);
    w.depthwise = vector(p + "lconv1d.depthwise_conv1d.weight");
    layers_.push_back(std::move(w));
  }
  output_proj_ = matrix("audio_tower.output_proj.weight", O, Ha);
  output_bias_ = vector("audio_tower.output_proj.bias");
  embed_proj_ = matrix("embed_audio.embedding_projection.weight", uint32_t(text_hidden_), O);
}

uint64_t GpuAudioTower::device_bytes() const {
  return unified_ ? unified_->device_bytes() : weights_->allocated_bytes();
}

std::vector<float> GpuAudioTower::Encode(const AudioFeatures& clip, KernelFamily kernels, KernelFeatures features) {
  if (unified_) return unified_->EncodeAudio(clip, kernels, features);
  CheckAudioFeatures(clip, "audio clip");
  const uint32_t T0 = uint32_t(clip.valid_frames), F0 = AudioFeatures::kMelBins;
  const uint32_t C0 = uint32_t(a_.subsampling_channels0), C1 = uint32_t(a_.subsampling_channels1);
  const uint32_t T1 = (T0 - 1) / 2 + 1, F1 = (F0 - 1) / 2 + 1, T = (T1 - 1) / 2 + 1, F2 = (F1 - 1) / 2 + 1;
  const uint32_t Ha = uint32_t(a_.hidden_size), NH = uint32_t(a_.num_attention_heads), D = uint32_t(a_.head_dim());
  const uint32_t O = uint32_t(a_.output_proj_dims), H = uint32_t(text_hidden_);
  VKG_CHECK(T == uint32_t(clip.soft_tokens), "GpuAudioTower: ", T, " rows for ", clip.soft_tokens, " soft tokens");
  const float eps = a_.rms_norm_eps;
  const float k_scale = float(std::log(1.0 + std::exp(1.0)) / std::log(2.0));

  // ---- Scratch for this clip ----
  vk::BlockAllocator alloc(gpu_.device(), vk::MemoryKind::kDeviceLocal, "audio activations");
  auto tensor = [&](uint32_t rows, uint32_t cols) {
    return Tensor{alloc.Allocate(uint64_t(rows) * cols * 4), DType::F32, rows, cols};
  };
  const Tensor mel = tensor(T0, F0), h0 = tensor(T1 * F1, C0), h1 = tensor(T, F2 * C1);
  Tensor x = tensor(T, Ha), a = tensor(T, Ha);
  const Tensor y = tensor(T, Ha), clipped = tensor(T, 4 * Ha), wide = tensor(T, 4 * Ha);
  const Tensor q = tensor(T, Ha), kk = tensor(T, Ha), vv = tensor(T, Ha), attn = tensor(T, Ha);
  const Tensor out = tensor(T, O), soft = tensor(T, H);
  gpu_.transfer().Upload(mel.slice, clip.mel.data(), size_t(T0) * F0 * 4);  // the valid frames only

  vk::Recorder rec(gpu_.device());
  OpContext ctx{gpu_.device(), gpu_.pipelines(), rec, kernels, features};
  auto barrier = [&] { rec.ComputeToCompute(); };
  // The towers' clippable linear (clipped_linear_gpu.h), its input clamp in `clipped`.
  auto product = [&](const GpuClippedLinear& l, const Tensor& in, const Tensor& dst) {
    RecordClippedLinear(ctx, l, in, dst, clipped);
  };
  // Half-step feed-forward: x += r * post(down(silu(up(a)))), a = pre_norm(x) on entry; leaves
  // next_norm(x) in a (Tensor{}: not written).
  auto feed_forward = [&](const GpuAudioFeedForward& f, const Tensor& next_norm, const Tensor& next_out) {
    const Tensor u = View(wide, T, 4 * Ha);
    product(f.up, a, u);
    barrier();
    BiasAct(ctx, u, Tensor{}, true);
    barrier();
    product(f.down, u, y);
    barrier();
    ResidualRmsNorm(ctx, x, y, f.post_norm_half, 1.f, next_norm, next_out, kDefaultEps);
    barrier();
  };

  rec.Begin();
  // Subsampling: two conv + LayerNorm + ReLU layers, then input_proj_linear.
  AudioConvNorm(ctx, mel, T0, F0, 1, conv0_, norm0_, C0, eps, h0);
  barrier();
  AudioConvNorm(ctx, h0, T1, F1, C0, conv1_, norm1_, C1, eps, h1);
  barrier();
  MatMul(ctx, input_proj_, h1, x);
  barrier();
  RmsNorm(ctx, x, layers_[0].ffw1.pre_norm, a, kDefaultEps);
  barrier();
  // The HF clamps to +-gradient_clipping (1e10) around the norms are not recorded: no finite
  // activation of a working model reaches them (ref::AudioTower applies them).
  for (size_t l = 0; l < layers_.size(); ++l) {
    const GpuAudioLayer& w = layers_[l];
    feed_forward(w.ffw1, w.norm_pre_attn, a);
    // Attention block: x += norm_post_attn(post(attention(q, k, v of a))); a = lconv_pre_norm(x).
    product(w.q, a, q);
    barrier();
    product(w.k, a, kk);
    barrier();
    product(w.v, a, vv);
    barrier();
    AudioAttention(ctx, q, kk, vv, w.rel, w.qs, NH, D, k_scale, a_.attention_logit_cap, attn);
    barrier();
    product(w.post, attn, y);
    barrier();
    if (eps == kDefaultEps) {  // one dispatch when both norms take the same eps (the released towers)
      ResidualRmsNorm(ctx, x, y, w.norm_post_attn, 1.f, w.lconv_pre_norm, a, eps);
    } else {
      ResidualRmsNorm(ctx, x, y, w.norm_post_attn, 1.f, Tensor{}, a, kDefaultEps);
      barrier();
      RmsNorm(ctx, x, w.lconv_pre_norm, a, eps);
    }
    barrier();
    // Light conv block: x += end(silu(conv_norm(depthwise(glu(start(a)))))); a = ffw2.pre_norm(x).
    const Tensor s2 = View(wide, T, 2 * Ha);
    product(w.lconv_start, a, s2);
    barrier();
    AudioGluConv(ctx, s2, w.depthwise, uint32_t(a_.conv_kernel_size), attn);
    barrier();
    RmsNorm(ctx, attn, w.lconv_conv_norm, attn, eps);
    barrier();
    BiasAct(ctx, attn, Tensor{}, true);
    barrier();
    product(w.lconv_end, attn, y);
    barrier();
    AddScaled(ctx, x, y, x, 1.f);
    barrier();
    RmsNorm(ctx, x, w.ffw2.pre_norm, a, kDefaultEps);
    barrier();
    // Second feed-forward; norm_out(x) lands in a, which becomes the stream (x and a swap), and the
    // next layer's first norm is taken from it.
    feed_forward(w.ffw2, w.norm_out, a);
    std::swap(x, a);
    if (l + 1 < layers_.size()) {
      RmsNorm(ctx, x, layers_[l + 1].ffw1.pre_norm, a, kDefaultEps);
      barrier();
    }
  }
  // output_proj (+ bias), then embed_audio: unscaled RMSNorm (audio eps) and the projection.
  MatMul(ctx, output_proj_, x, out);
  barrier();
  BiasAct(ctx, out, output_bias_, false);
  barrier();
  RmsNorm(ctx, out, Tensor{}, out, eps);
  barrier();
  MatMul(ctx, embed_proj_, out, soft);
  rec.ToHost();
  rec.End();
  rec.Submit();
  std::vector<float> result(size_t(T) * H);
  gpu_.transfer().Download(soft.slice, result.data(), result.size() * 4);
  return result;
}

}  // namespace vkg
