// CPU reference of the Gemma 4 vision tower: patches -> soft tokens in the text model's width,
// float32, exactly HF's Gemma4VisionModel + Gemma4MultimodalEmbedder (layer: host/reference).
// Step by step in docs/model.md §5.2; the GPU tower and HF's soft tokens are compared against it.
#pragma once
#include <limits>
#include <vector>

#include "host/model/checkpoint.h"
#include "host/model/image_patches.h"

namespace vkg::ref {

// A clippable linear: y = clamp(W clamp(x, in), out). Without use_clipped_linears the ranges stay
// infinite and the clamps do nothing.
struct ClippedLinear {
  std::vector<float> w;  // [out][in]
  float in_min = -std::numeric_limits<float>::infinity(), in_max = std::numeric_limits<float>::infinity();
  float out_min = -std::numeric_limits<float>::infinity(), out_max = std::numeric_limits<float>::infinity();
};

struct VisionLayerWeights {
  std::vector<float> input_norm, post_attn_norm, pre_ffn_norm, post_ffn_norm;  // [Hv]
  ClippedLinear q, k, v;                                                       // [NHv*Dv | KVHv*Dv][Hv]
  ClippedLinear o;                                                             // [Hv][NHv*Dv]
  std::vector<float> q_norm, k_norm;                                           // [Dv]
  ClippedLinear gate, up;                                                      // [Iv][Hv]
  ClippedLinear down;                                                          // [Hv][Iv]
};

struct VisionWeights {
  std::vector<float> patch_proj;      // [Hv][3*ps*ps]
  std::vector<float> position_table;  // [2][position_embedding_size][Hv]: x table, then y table
  std::vector<VisionLayerWeights> layers;
  std::vector<float> std_bias, std_scale;  // [Hv], when standardize
  std::vector<float> embed_proj;           // [H][Hv]: embed_vision.embedding_projection

  // Throws vkg::Error when the checkpoint has no vision tower.
  static VisionWeights Load(const Checkpoint& ckpt);
};

class VisionTower {
 public:
  VisionTower(const ModelConfig& config, VisionWeights weights);
  const VisionWeights& weights() const { return weights_; }

  // Soft tokens of one image: [N / k^2][H] (the text model's width), in pooled-grid row-major
  // order. Checks the patches first (ImagePatches::Check).
  std::vector<float> Encode(const ImagePatches& image) const;
  // The encoder's output before pooling, [N][Hv] (tests diff it per stage).
  std::vector<float> EncodePatches(const ImagePatches& image) const;

 private:
  // y = clamp(W clamp(x)) for rows x: [T][in] -> y: [T][out].
  void Linear(const ClippedLinear& l, const float* x, float* y, int T, int out, int in) const;
  void Layer(const VisionLayerWeights& w, std::vector<float>& x, const std::vector<int32_t>& positions, int T) const;

  VisionConfig v_;
  int text_hidden_ = 0;
  VisionWeights weights_;
  std::vector<float> inv_freq_;  // [Dv / 4]
};

}  // namespace vkg::ref
