// gemma4_unified's media embedders on the CPU (layer: host/reference). Each step names HF's module.
#include "host/reference/unified_media.h"

#include <cmath>

#include "host/error.h"
#include "host/model/audio_prompt.h"
#include "host/model/tensor_names.h"
#include "host/reference/ref_ops.h"

namespace vkg::ref {

void LayerNorm(const float* x, const float* w, const float* b, float* y, int rows, int dim, float eps) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + size_t(r) * dim;
    float* yr = y + size_t(r) * dim;
    double sum = 0.0;
    for (int i = 0; i < dim; ++i) sum += xr[i];
    const double mean = sum / dim;
    double var = 0.0;
    for (int i = 0; i < dim; ++i) var += (xr[i] - mean) * (xr[i] - mean);
    const double inv = 1.0 / std::sqrt(var / dim + eps);
    for (int i = 0; i < dim; ++i) yr[i] = float((xr[i] - mean) * inv) * w[i] + b[i];
  }
}

UnifiedVisionWeights UnifiedVisionWeights::Load(const Checkpoint& ckpt) {
  const ModelConfig& c = ckpt.config();
  if (!c.mm.has_vision || !c.mm.vision_unified) throw Error("the model has no gemma4_unified image embedder");
  CheckVisionTensors(c, ckpt.weights());
  auto get = [&](const std::string& name) { return ckpt.Float32(name); };
  const std::string e = "embed_vision.";
  UnifiedVisionWeights w;
  w.ln1_w = get(e + "patch_ln1.weight");
  w.ln1_b = get(e + "patch_ln1.bias");
  w.dense = get(e + "patch_dense.weight");
  w.dense_b = get(e + "patch_dense.bias");
  w.ln2_w = get(e + "patch_ln2.weight");
  w.ln2_b = get(e + "patch_ln2.bias");
  w.pos = get(e + "pos_embedding");
  w.pos_w = get(e + "pos_norm.weight");
  w.pos_b = get(e + "pos_norm.bias");
  w.proj = get(e + "multimodal_embedder.embedding_projection.weight");
  return w;
}

std::vector<float> UnifiedImageSoftTokens(const ModelConfig& c, const UnifiedVisionWeights& w,
                                          const ImagePatches& image) {
  const UnifiedVisionConfig& u = c.mm.unified_vision;
  image.Check(c.mm.vision, "image");
  const MergedPatches m = MergePatches(image, c.mm.vision);
  const int S = m.count, P = u.patch_values(), D = u.mm_embed_dim, H = c.hidden_size;
  const float ln_eps = UnifiedVisionConfig::kLayerNormEps;
  // patch_ln1 -> patch_dense (+ bias) -> patch_ln2
  std::vector<float> normed(m.pixels.size());
  LayerNorm(m.pixels.data(), w.ln1_w.data(), w.ln1_b.data(), normed.data(), S, P, ln_eps);
  std::vector<float> h(size_t(S) * D);
  MatMul(w.dense.data(), normed.data(), h.data(), S, D, P);
  for (int s = 0; s < S; ++s)
    for (int i = 0; i < D; ++i) h[size_t(s) * D + i] += w.dense_b[size_t(i)];
  LayerNorm(h.data(), w.ln2_w.data(), w.ln2_b.data(), h.data(), S, D, ln_eps);
  // + pos_embedding[x][0] + pos_embedding[y][1] (HF sums the two rows first), then pos_norm
  for (int s = 0; s < S; ++s) {
    const size_t x = size_t(m.positions[size_t(s) * 2]), y = size_t(m.positions[size_t(s) * 2 + 1]);
    for (int i = 0; i < D; ++i) {
      const float pe = w.pos[(x * 2 + 0) * size_t(D) + size_t(i)] + w.pos[(y * 2 + 1) * size_t(D) + size_t(i)];
      h[size_t(s) * D + i] += pe;
    }
  }
  LayerNorm(h.data(), w.pos_w.data(), w.pos_b.data(), h.data(), S, D, ln_eps);
  // multimodal_embedder: RMSNorm without scale, projection to the text width
  RmsNorm(h.data(), nullptr, h.data(), S, D, u.rms_norm_eps);
  std::vector<float> soft(size_t(S) * H);
  MatMul(w.proj.data(), h.data(), soft.data(), S, H, D);
  return soft;
}

std::vector<float> LoadUnifiedAudioProjection(const Checkpoint& ckpt) {
  const ModelConfig& c = ckpt.config();
  if (!c.mm.has_audio || !c.mm.audio_unified) throw Error("the model has no gemma4_unified audio embedder");
  CheckAudioTensors(c, ckpt.weights());
  return ckpt.Float32("embed_audio.embedding_projection.weight");
}

std::vector<float> UnifiedAudioSoftTokens(const ModelConfig& c, const std::vector<float>& proj,
                                          const AudioFeatures& clip) {
  CheckAudioFeaturesFit(c.mm, clip, "audio clip");
  const int T = clip.valid_frames, F = clip.width, H = c.hidden_size;
  std::vector<float> x(clip.mel.begin(), clip.mel.begin() + std::ptrdiff_t(size_t(T) * F));
  RmsNorm(x.data(), nullptr, x.data(), T, F, c.mm.unified_audio.rms_norm_eps);
  std::vector<float> soft(size_t(T) * H);
  MatMul(proj.data(), x.data(), soft.data(), T, H, F);
  return soft;
}

}  // namespace vkg::ref
