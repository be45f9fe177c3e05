// CPU reference of gemma4_unified's media input (the 12B has no vision tower and no conformer):
// raw 48 x 48 image patches and raw 640-sample audio frames through norms and linears to soft
// tokens in the text width, float32, exactly HF's Gemma4UnifiedVisionEmbedder and embed_audio
// (Gemma4UnifiedMultimodalEmbedder) (layer: host/reference). docs/model.md §5.7.
#pragma once
#include <vector>

#include "host/model/audio_features.h"
#include "host/model/checkpoint.h"
#include "host/model/image_patches.h"

namespace vkg::ref {

// LayerNorm over the last dim with weight and bias: y = (x - mean) / sqrt(var + eps) * w + b
// (torch's nn.LayerNorm: biased variance). x, y: [rows][dim] (y may be x).
void LayerNorm(const float* x, const float* w, const float* b, float* y, int rows, int dim, float eps);

struct UnifiedVisionWeights {
  std::vector<float> ln1_w, ln1_b;    // [P]  P = 3 * 48 * 48 (patch_ln1)
  std::vector<float> dense, dense_b;  // [Dm][P], [Dm] (patch_dense)
  std::vector<float> ln2_w, ln2_b;    // [Dm] (patch_ln2)
  std::vector<float> pos;             // [mm_posemb_size][2][Dm] (pos_embedding: x row, then y row)
  std::vector<float> pos_w, pos_b;    // [Dm] (pos_norm)
  std::vector<float> proj;            // [H][Dm] (multimodal_embedder.embedding_projection)
  // Throws vkg::Error when the checkpoint's config is not unified or a tensor is missing.
  static UnifiedVisionWeights Load(const Checkpoint& ckpt);
};

// Soft tokens of one image, [N / k^2][H]: merge the k x k patch blocks (MergePatches), LN1, dense
// + bias, LN2, + pos[bx][0] + pos[by][1], LN3, RMSNorm without scale, projection.
std::vector<float> UnifiedImageSoftTokens(const ModelConfig& config, const UnifiedVisionWeights& w,
                                          const ImagePatches& image);

// Soft tokens of one raw-frame clip, [frames][H]: each 640-sample frame RMS-normalised (no scale)
// and projected by embed_audio.embedding_projection ([H][640]).
std::vector<float> UnifiedAudioSoftTokens(const ModelConfig& config, const std::vector<float>& proj,
                                          const AudioFeatures& clip);
// embed_audio.embedding_projection of a unified checkpoint, [H][640] (throws when missing).
std::vector<float> LoadUnifiedAudioProjection(const Checkpoint& ckpt);

}  // namespace vkg::ref
