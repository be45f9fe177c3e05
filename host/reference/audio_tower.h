// CPU reference of the Gemma 4 audio tower: log-mel frames -> soft tokens in the text model's
// width, float32, exactly HF's Gemma4AudioModel + Gemma4MultimodalEmbedder (embed_audio)
// (layer: host/reference). Step by step in docs/model.md §5.5; the GPU tower is tested against it.
#pragma once
#include <vector>

#include "host/model/audio_features.h"
#include "host/model/audio_prompt.h"
#include "host/model/checkpoint.h"
#include "host/reference/vision_tower.h"  // ClippedLinear

namespace vkg::ref {

struct AudioFeedForwardWeights {
  std::vector<float> pre_norm, post_norm;  // [Ha]
  ClippedLinear up;                        // ffw_layer_1 [4 Ha][Ha]
  ClippedLinear down;                      // ffw_layer_2 [Ha][4 Ha]
};

struct AudioLayerWeights {
  AudioFeedForwardWeights ffw1, ffw2;
  std::vector<float> norm_pre_attn, norm_post_attn, norm_out;  // [Ha]
  ClippedLinear q, k, v, post;                                 // [Ha][Ha]
  std::vector<float> relative_k;                               // [Ha][Ha]: sinusoid -> per-head key
  std::vector<float> per_dim_scale;                            // [Da]
  std::vector<float> lconv_pre_norm, lconv_conv_norm;          // [Ha]
  ClippedLinear lconv_start;                                   // [2 Ha][Ha]
  ClippedLinear lconv_end;                                     // [Ha][Ha]
  std::vector<float> depthwise;                                // [Ha][Kc]
};

struct AudioWeights {
  std::vector<float> conv0, norm0;  // [C0][1][3][3], [C0]
  std::vector<float> conv1, norm1;  // [C1][C0][3][3], [C1]
  std::vector<float> input_proj;    // [Ha][32 * C1]: (mel bin / 4, channel) -> hidden
  std::vector<AudioLayerWeights> layers;
  std::vector<float> output_proj, output_bias;  // [Oa][Ha], [Oa]
  std::vector<float> embed_proj;                // [H][Oa]: embed_audio.embedding_projection

  // Throws vkg::Error when the checkpoint has no audio tower or lacks one of its tensors.
  static AudioWeights Load(const Checkpoint& ckpt);
};

// Sinusoidal relative positions of the attention: [left - 1 + 1][Ha], row d = distance d (query
// minus key) as [sin(d w_0) .. sin(d w_{Ha/2-1}), cos(d w_0) ..], w_i = 10^(-4 i / (Ha/2 - 1)).
std::vector<float> AudioRelativePositions(const AudioConfig& a);

// The tower's steps as free functions (the GPU ops are tested against them):
// One subsampling layer: 3x3 stride-2 conv (padding 1, no bias), LayerNorm over the channels
// (weight, no bias), ReLU. in [Tin][Fin][Cin] (channel innermost), w [Cout][Cin][3][3], norm [Cout]
// -> [(Tin-1)/2+1][(Fin-1)/2+1][Cout].
std::vector<float> AudioConvNormRelu(const std::vector<float>& in, int Tin, int Fin, int Cin,
                                     const std::vector<float>& w, const std::vector<float>& norm, int Cout, float eps);
// The local attention: query t sees keys t - d, d < min(t + 1, W); logit = cap tanh((q * qs) .
// (k * k_scale + rel_d) / cap); softmax; sum of v. q, k, v, out [T][heads * D]; rel [W][heads * D];
// qs [D] (q_scale * softplus(per_dim_scale)).
std::vector<float> AudioLocalAttention(const std::vector<float>& q, const std::vector<float>& k,
                                       const std::vector<float>& v, const std::vector<float>& rel,
                                       const std::vector<float>& qs, int T, int heads, int D, int W, float k_scale,
                                       float cap);
// GLU then depthwise causal conv: s [T][2H] -> glu [T][H] -> out[t][i] = sum_j w[i][j] glu[t-K+1+j][i].
std::vector<float> AudioGluConv(const std::vector<float>& s, const std::vector<float>& w, int T, int H, int K);
// x * sigmoid(x)
float Silu(float x);

class AudioTower {
 public:
  AudioTower(const ModelConfig& config, AudioWeights weights);
  const AudioWeights& weights() const { return weights_; }

  // Soft tokens of one clip: [soft_tokens][H] (the text width). Checks the clip first.
  std::vector<float> Encode(const AudioFeatures& clip) const;
  // The conformer's output before output_proj, [soft_tokens][Ha] (tests diff it per stage).
  std::vector<float> EncodeHidden(const AudioFeatures& clip) const;
  // The subsampling stage alone: [soft_tokens][Ha] after input_proj_linear.
  std::vector<float> Subsample(const AudioFeatures& clip) const;

 private:
  void Linear(const ClippedLinear& l, const float* x, float* y, int T, int out, int in) const;
  void FeedForward(const AudioFeedForwardWeights& w, std::vector<float>& x, int T) const;
  void Attention(const AudioLayerWeights& w, const std::vector<float>& x, std::vector<float>& out, int T) const;
  void LightConv(const AudioLayerWeights& w, std::vector<float>& x, int T) const;
  void Layer(const AudioLayerWeights& w, std::vector<float>& x, int T) const;

  AudioConfig a_;
  int text_hidden_ = 0;
  AudioWeights weights_;
  std::vector<float> positions_;  // AudioRelativePositions
};

}  // namespace vkg::ref
