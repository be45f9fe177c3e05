// gemma4_unified's media embedders on the device (layer: host/runtime). Each step names the
// ref::UnifiedImageSoftTokens / ref::UnifiedAudioSoftTokens step it mirrors.
#include "host/runtime/unified_media_gpu.h"

#include "host/device/gpu_context.h"
#include "host/error.h"
#include "host/model/audio_prompt.h"
#include "host/ops/audio.h"
#include "host/ops/layer_norm.h"
#include "host/ops/matmul.h"
#include "host/ops/rms_norm.h"
#include "host/runtime/tower_weights.h"
#include "vk/check.h"
#include "vk/command.h"

namespace vkg {

GpuUnifiedMedia::~GpuUnifiedMedia() = default;

GpuUnifiedMedia::GpuUnifiedMedia(const WeightSource& source, GpuContext& gpu, DType format)
    : source_(source), gpu_(gpu) {
  const ModelConfig& c = source.config();
  weights_ = std::make_unique<vk::BlockAllocator>(gpu.device(), vk::MemoryKind::kDeviceLocal, "unified media weights");
  auto matrix = [&](const std::string& name, uint32_t rows, uint32_t cols) {
    return UploadTowerMatrix(source, gpu, *weights_, format, name, rows, cols);
  };
  auto vector = [&](const std::string& name) { return UploadTowerValues(gpu, *weights_, source.Vector(name)); };
  const uint32_t H = uint32_t(c.hidden_size);
  if (c.mm.has_vision && c.mm.vision_unified) {
    const UnifiedVisionConfig& u = c.mm.unified_vision;
    const uint32_t P = uint32_t(u.patch_values()), D = uint32_t(u.mm_embed_dim);
    const std::string e = "embed_vision.";
    ln1_w_ = vector(e + "patch_ln1.weight");
    ln1_b_ = vector(e + "patch_ln1.bias");
    dense_ = matrix(e + "patch_dense.weight", D, P);
    dense_b_ = vector(e + "patch_dense.bias");
    ln2_w_ = vector(e + "patch_ln2.weight");
    ln2_b_ = vector(e + "patch_ln2.bias");
    pos_w_ = vector(e + "pos_norm.weight");
    pos_b_ = vector(e + "pos_norm.bias");
    vision_proj_ = matrix(e + "multimodal_embedder.embedding_projection.weight", H, D);
  }
  if (c.mm.has_audio && c.mm.audio_unified) {
    audio_proj_ = matrix("embed_audio.embedding_projection.weight", H, uint32_t(c.mm.unified_audio.audio_embed_dim));
  }
}

uint64_t GpuUnifiedMedia::device_bytes() const { return weights_->allocated_bytes(); }

std::vector<float> GpuUnifiedMedia::EncodeImage(const ImagePatches& image, KernelFamily kernels,
                                                KernelFeatures features) {
  const ModelConfig& c = source_.config();
  VKG_CHECK(c.mm.vision_unified, "GpuUnifiedMedia: the model has no unified image embedder");
  const UnifiedVisionConfig& u = c.mm.unified_vision;
  image.Check(c.mm.vision, "image");
  const MergedPatches m = MergePatches(image, c.mm.vision);
  const uint32_t S = uint32_t(m.count), P = uint32_t(u.patch_values()), D = uint32_t(u.mm_embed_dim);
  const uint32_t H = uint32_t(c.hidden_size);
  // Host: the (x, y) position rows, pos_embedding[x][0] + pos_embedding[y][1] (HF sums them first).
  std::vector<float> pos(size_t(S) * D), tx(D), ty(D);
  const RowSource table = source_.Rows("embed_vision.pos_embedding", D);
  for (uint32_t s = 0; s < S; ++s) {
    table(uint32_t(m.positions[2 * s]) * 2, tx.data());
    table(uint32_t(m.positions[2 * s + 1]) * 2 + 1, ty.data());
    for (uint32_t i = 0; i < D; ++i) pos[size_t(s) * D + i] = tx[i] + ty[i];
  }
  vk::BlockAllocator alloc(gpu_.device(), vk::MemoryKind::kDeviceLocal, "unified image activations");
  auto tensor = [&](uint32_t rows, uint32_t cols) {
    return Tensor{alloc.Allocate(uint64_t(rows) * cols * 4), DType::F32, rows, cols};
  };
  const Tensor px = tensor(S, P), h = tensor(S, D), pe = tensor(S, D), soft = tensor(S, H);
  vk::Transfer& tr = gpu_.transfer();
  tr.Upload(px.slice, m.pixels.data(), m.pixels.size() * 4);
  tr.Upload(pe.slice, pos.data(), pos.size() * 4);

  vk::Recorder rec(gpu_.device());
  OpContext ctx{gpu_.device(), gpu_.pipelines(), rec, kernels, features};
  const float ln_eps = UnifiedVisionConfig::kLayerNormEps;
  rec.Begin();
  LayerNorm(ctx, px, Tensor{}, ln1_w_, ln1_b_, px, ln_eps);  // patch_ln1
  rec.ComputeToCompute();
  MatMul(ctx, dense_, px, h);  // patch_dense
  rec.ComputeToCompute();
  BiasAct(ctx, h, dense_b_, false);
  rec.ComputeToCompute();
  LayerNorm(ctx, h, Tensor{}, ln2_w_, ln2_b_, h, ln_eps);  // patch_ln2
  rec.ComputeToCompute();
  LayerNorm(ctx, h, pe, pos_w_, pos_b_, h, ln_eps);  // + position rows, pos_norm
  rec.ComputeToCompute();
  RmsNorm(ctx, h, Tensor{}, h, u.rms_norm_eps);  // multimodal_embedder: unscaled RMSNorm
  rec.ComputeToCompute();
  MatMul(ctx, vision_proj_, h, soft);  // embedding_projection
  rec.ToHost();
  rec.End();
  rec.Submit();
  std::vector<float> out(size_t(S) * H);
  tr.Download(soft.slice, out.data(), out.size() * 4);
  return out;
}

std::vector<float> GpuUnifiedMedia::EncodeAudio(const AudioFeatures& clip, KernelFamily kernels,
                                                KernelFeatures features) {
  const ModelConfig& c = source_.config();
  VKG_CHECK(c.mm.audio_unified, "GpuUnifiedMedia: the model has no unified audio projection");
  CheckAudioFeaturesFit(c.mm, clip, "audio clip");
  const uint32_t T = uint32_t(clip.valid_frames), F = uint32_t(clip.width), H = uint32_t(c.hidden_size);
  vk::BlockAllocator alloc(gpu_.device(), vk::MemoryKind::kDeviceLocal, "unified audio activations");
  const Tensor x{alloc.Allocate(uint64_t(T) * F * 4), DType::F32, T, F};
  const Tensor soft{alloc.Allocate(uint64_t(T) * H * 4), DType::F32, T, H};
  vk::Transfer& tr = gpu_.transfer();
  tr.Upload(x.slice, clip.mel.data(), uint64_t(T) * F * 4);
  vk::Recorder rec(gpu_.device());
  OpContext ctx{gpu_.device(), gpu_.pipelines(), rec, kernels, features};
  rec.Begin();
  RmsNorm(ctx, x, Tensor{}, x, c.mm.unified_audio.rms_norm_eps);  // embed_audio: unscaled RMSNorm
  rec.ComputeToCompute();
  MatMul(ctx, audio_proj_, x, soft);  // embedding_projection
  rec.ToHost();
  rec.End();
  rec.Submit();
  std::vector<float> out(size_t(T) * H);
  tr.Download(soft.slice, out.data(), out.size() * 4);
  return out;
}

}  // namespace vkg
