// The vision tower on the device (layer: host/runtime): weight upload and one image's encode.
// Each step names the ref::VisionTower step it mirrors (docs/model.md §5.2).
#include "host/runtime/vision_tower_gpu.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "host/device/gpu_context.h"
#include "host/error.h"
#include "host/ops/attention.h"
#include "host/ops/elementwise.h"
#include "host/ops/matmul.h"
#include "host/ops/rms_norm.h"
#include "host/ops/vision.h"
#include "host/reference/ref_ops.h"
#include "host/runtime/tower_weights.h"
#include "host/runtime/unified_media_gpu.h"
#include "vk/check.h"
#include "vk/command.h"

namespace vkg {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

}  // namespace

GpuVisionTower::~GpuVisionTower() = default;

GpuVisionTower::GpuVisionTower(const WeightSource& source, GpuContext& gpu, DType format) : source_(source), gpu_(gpu) {
  const ModelConfig& c = source.config();
  VKG_CHECK(c.mm.has_vision, "GpuVisionTower: the config has no vision tower");
  if (c.mm.vision_unified) {
    unified_ = std::make_unique<GpuUnifiedMedia>(source, gpu, format);
    return;
  }
  v_ = c.mm.vision;
  text_hidden_ = c.hidden_size;
  weights_ = std::make_unique<vk::BlockAllocator>(gpu.device(), vk::MemoryKind::kDeviceLocal, "vision weights");
  const uint32_t Hv = uint32_t(v_.hidden_size), Iv = uint32_t(v_.intermediate_size), D = uint32_t(v_.head_dim);
  const uint32_t NH = uint32_t(v_.num_attention_heads), KVH = uint32_t(v_.num_key_value_heads);
  // Matrices in the compute format (f32 stays exact; block formats need whole blocks per row).
  auto matrix = [&](const std::string& name, uint32_t rows, uint32_t cols) {
    return UploadTowerMatrix(source, gpu, *weights_, format, name, rows, cols);
  };
  auto vector = [&](const std::string& name) { return UploadTowerValues(gpu, *weights_, source.Vector(name)); };
  auto scalar = [&](const std::string& name) { return source.Vector(name).at(0); };
  auto linear = [&](const std::string& p, uint32_t rows, uint32_t cols) {
    GpuClippedLinear l{matrix(p + ".linear.weight", rows, cols), -kInf, kInf, -kInf, kInf};
    if (v_.use_clipped_linears) {
      l.in_min = scalar(p + ".input_min");
      l.in_max = scalar(p + ".input_max");
      l.out_min = scalar(p + ".output_min");
      l.out_max = scalar(p + ".output_max");
    }
    return l;
  };
  patch_proj_ = matrix("vision_tower.patch_embedder.input_proj.weight", Hv, uint32_t(v_.patch_values()));
  for (int l = 0; l < v_.num_hidden_layers; ++l) {
    const std::string p = "vision_tower.encoder.layers." + std::to_string(l) + ".";
    GpuVisionLayer w;
    w.input_norm = vector(p + "input_layernorm.weight");
    w.post_attn_norm = vector(p + "post_attention_layernorm.weight");
    w.pre_ffn_norm = vector(p + "pre_feedforward_layernorm.weight");
    w.post_ffn_norm = vector(p + "post_feedforward_layernorm.weight");
    w.q = linear(p + "self_attn.q_proj", NH * D, Hv);
    w.k = linear(p + "self_attn.k_proj", KVH * D, Hv);
    w.v = linear(p + "self_attn.v_proj", KVH * D, Hv);
    w.o = linear(p + "self_attn.o_proj", Hv, NH * D);
    w.q_norm = vector(p + "self_attn.q_norm.weight");
    w.k_norm = vector(p + "self_attn.k_norm.weight");
    w.gate = linear(p + "mlp.gate_proj", Iv, Hv);
    w.up = linear(p + "mlp.up_proj", Iv, Hv);
    w.down = linear(p + "mlp.down_proj", Hv, Iv);
    layers_.push_back(std::move(w));
  }
  if (v_.standardize) {
    std_bias_ = vector("vision_tower.std_bias");
    std_scale_ = vector("vision_tower.std_scale");
  }
  embed_proj_ = matrix("embed_vision.embedding_projection.weight", uint32_t(text_hidden_), Hv);
  const std::vector<float> f = ref::RopeInvFreq(int(D / 2), v_.rope_theta, int(D / 4));
  inv_freq_ = Tensor{weights_->Allocate(f.size() * 4), DType::F32, 1, uint32_t(f.size())};
  gpu.transfer().Upload(inv_freq_.slice, f.data(), f.size() * 4);
}

uint64_t GpuVisionTower::device_bytes() const {
  return unified_ ? unified_->device_bytes() : weights_->allocated_bytes();
}

std::vector<float> GpuVisionTower::Encode(const ImagePatches& image, KernelFamily kernels, KernelFeatures features) {
  if (unified_) return unified_->EncodeImage(image, kernels, features);
  image.Check(v_, "image");
  const uint32_t N = uint32_t(image.count), Hv = uint32_t(v_.hidden_size), Iv = uint32_t(v_.intermediate_size);
  const uint32_t D = uint32_t(v_.head_dim), NH = uint32_t(v_.num_attention_heads);
  const uint32_t KVH = uint32_t(v_.num_key_value_heads), PV = uint32_t(v_.patch_values());
  const uint32_t k = uint32_t(v_.pooling_kernel_size), S = uint32_t(image.soft_tokens(v_));
  const uint32_t H = uint32_t(text_hidden_), P = uint32_t(v_.position_embedding_size);
  const float eps = v_.rms_norm_eps;

  // ---- Host-side inputs: 2 (p - 0.5), the x + y position rows, patch positions, pool members ----
  std::vector<float> px(image.pixels);
  for (float& p : px) p = 2.f * (p - 0.5f);
  std::vector<float> pos_emb(size_t(N) * Hv), tx(Hv), ty(Hv);
  const RowSource table = source_.Rows("vision_tower.patch_embedder.position_embedding_table", Hv);
  for (uint32_t t = 0; t < N; ++t) {
    table(uint32_t(image.positions[2 * t]), tx.data());
    table(P + uint32_t(image.positions[2 * t + 1]), ty.data());
    for (uint32_t i = 0; i < Hv; ++i) pos_emb[size_t(t) * Hv + i] = tx[i] + ty[i];  // as HF: x_emb + y_emb first
  }
  int width = 0;
  for (uint32_t t = 0; t < N; ++t) width = std::max(width, image.positions[2 * t] + 1);
  std::vector<int32_t> members(size_t(S) * k * k), filled(S, 0);
  for (uint32_t t = 0; t < N; ++t) {
    const int s = image.positions[2 * t] / int(k) + (width / int(k)) * (image.positions[2 * t + 1] / int(k));
    members[size_t(s) * k * k + size_t(filled[size_t(s)]++)] = int32_t(t);
  }
  std::vector<int32_t> last_key(N, int32_t(N - 1));  // every patch sees every patch

  // ---- Scratch for this image ----
  vk::BlockAllocator alloc(gpu_.device(), vk::MemoryKind::kDeviceLocal, "vision activations");
  auto tensor = [&](uint32_t rows, uint32_t cols) {
    return Tensor{alloc.Allocate(uint64_t(rows) * cols * 4), DType::F32, rows, cols};
  };
  const uint32_t wide = std::max({Hv, Iv, NH * D, PV});
  const Tensor tpx = tensor(N, PV), x = tensor(N, Hv), a = tensor(N, Hv), y = tensor(N, Hv), pe = tensor(N, Hv);
  const Tensor clipped = tensor(N, wide), q = tensor(N, NH * D), kk = tensor(N, KVH * D), vv = tensor(N, KVH * D);
  const Tensor attn = tensor(N, NH * D), g = tensor(N, Iv), u = tensor(N, Iv);
  const Tensor pooled = tensor(S, Hv), soft = tensor(S, H);
  const vk::BufferSlice positions = alloc.Allocate(uint64_t(N) * 8), last = alloc.Allocate(uint64_t(N) * 4);
  const vk::BufferSlice pool_members = alloc.Allocate(members.size() * 4);
  vk::Transfer& tr = gpu_.transfer();
  tr.Upload(tpx.slice, px.data(), px.size() * 4);
  tr.Upload(pe.slice, pos_emb.data(), pos_emb.size() * 4);
  tr.Upload(positions, image.positions.data(), image.positions.size() * 4);
  tr.Upload(last, last_key.data(), last_key.size() * 4);
  tr.Upload(pool_members, members.data(), members.size() * 4);

  vk::Recorder rec(gpu_.device());
  OpContext ctx{gpu_.device(), gpu_.pipelines(), rec, kernels, features};
  auto barrier = [&] { rec.ComputeToCompute(); };
  // The towers' clippable linear (clipped_linear_gpu.h), its input clamp in `clipped`.
  auto product = [&](const GpuClippedLinear& l, const Tensor& in, const Tensor& out) {
    RecordClippedLinear(ctx, l, in, out, clipped);
  };

  rec.Begin();
  // Patch embedding: W_in (2 (p - 0.5)) + (table_x[x] + table_y[y]).
  MatMul(ctx, patch_proj_, tpx, x);
  barrier();
  AddScaled(ctx, x, pe, x, 1.f);
  barrier();
  RmsNorm(ctx, x, layers_[0].input_norm, a, eps);
  barrier();
  for (size_t l = 0; l < layers_.size(); ++l) {
    const GpuVisionLayer& w = layers_[l];
    // Attention block: q/k/v (clipped), per-head norms (v unscaled), 2D RoPE, all-see-all attention.
    product(w.q, a, q);
    barrier();
    product(w.k, a, kk);
    barrier();
    product(w.v, a, vv);
    barrier();
    RmsNorm(ctx, View(q, N * NH, D), w.q_norm, View(q, N * NH, D), eps);
    RmsNorm(ctx, View(kk, N * KVH, D), w.k_norm, View(kk, N * KVH, D), eps);
    RmsNorm(ctx, View(vv, N * KVH, D), Tensor{}, View(vv, N * KVH, D), eps);
    barrier();
    Rope2D(ctx, q, NH, D, positions, inv_freq_);
    Rope2D(ctx, kk, KVH, D, positions, inv_freq_);
    barrier();
    AttentionShape shape{0, NH, KVH, D, N, 0, 1.f};
    shape.last_key = &last;
    Attention(ctx, q, kk, vv, attn, shape);
    barrier();
    product(w.o, attn, y);
    barrier();
    ResidualRmsNorm(ctx, x, y, w.post_attn_norm, 1.f, w.pre_ffn_norm, a, eps);  // x += norm(y); a = pre_ffn(x)
    barrier();
    // Gated MLP: down(gelu_tanh(gate a) * up a), every linear clipped.
    product(w.gate, a, g);
    barrier();
    product(w.up, a, u);
    barrier();
    GeluMul(ctx, g, u, g);
    barrier();
    product(w.down, g, y);
    barrier();
    const Tensor next = l + 1 < layers_.size() ? layers_[l + 1].input_norm : Tensor{};
    ResidualRmsNorm(ctx, x, y, w.post_ffn_norm, 1.f, next, a, eps);
    barrier();
  }
  // Pooler: k x k average by position, x sqrt(Hv), standardize; then embed_vision.
  VisionPool(ctx, x, pool_members, k * k, float(std::sqrt(double(Hv))) / float(k * k), std_bias_, std_scale_, pooled);
  barrier();
  RmsNorm(ctx, pooled, Tensor{}, pooled, eps);
  barrier();
  MatMul(ctx, embed_proj_, pooled, soft);
  rec.ToHost();
  rec.End();
  rec.Submit();
  std::vector<float> out(size_t(S) * H);
  tr.Download(soft.slice, out.data(), out.size() * 4);
  return out;
}

}  // namespace vkg
