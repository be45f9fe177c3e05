// The Gemma 4 audio tower on the device: its weights (linears in the compute format; norms,
// convolution kernels, biases and clamp bounds f32; the relative-position keys precomputed per
// layer) and one clip's encode, op by op as ref::AudioTower (host/reference/audio_tower.h) and
// docs/model.md §5.5 (layer: host/runtime).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "host/device/tensor.h"
#include "host/device/weight_matrix.h"
#include "host/device/weight_source.h"
#include "host/model/audio_features.h"
#include "host/ops/kernel_family.h"
#include "host/runtime/clipped_linear_gpu.h"
#include "vk/buffer.h"

namespace vkg {

class GpuContext;

struct GpuAudioFeedForward {
  Tensor pre_norm;        // [1][Ha] f32
  Tensor post_norm_half;  // [1][Ha] f32: post_layer_norm * residual_weight (exact for 0.5)
  GpuClippedLinear up;    // [4 Ha][Ha]
  GpuClippedLinear down;  // [Ha][4 Ha]
};

struct GpuAudioLayer {
  GpuAudioFeedForward ffw1, ffw2;
  Tensor norm_pre_attn, norm_post_attn, norm_out;  // [1][Ha]
  GpuClippedLinear q, k, v, post;                  // [Ha][Ha]
  Tensor rel;                                      // [W][Ha]: relative_k_proj(sinusoids), per distance
  Tensor qs;                                       // [1][Da]: q_scale * softplus(per_dim_scale)
  Tensor lconv_pre_norm, lconv_conv_norm;          // [1][Ha]
  GpuClippedLinear lconv_start;                    // [2 Ha][Ha]
  GpuClippedLinear lconv_end;                      // [Ha][Ha]
  Tensor depthwise;                                // [Ha][Kc]
};

class GpuAudioTower {
 public:
  // Uploads the tower of source.config() (mm.has_audio) to the device; matrices in `format`.
  GpuAudioTower(const WeightSource& source, GpuContext& gpu, DType format);
  ~GpuAudioTower();

  // Soft tokens of one clip, [soft_tokens][H] (H = the text width): subsampling, the conformer,
  // output_proj and embed_audio on the device, one recorded command buffer. Scratch is allocated for
  // the clip and freed after. Checks the clip first (CheckAudioFeatures).
  std::vector<float> Encode(const AudioFeatures& clip, KernelFamily kernels = KernelFamily::kDevice,
                            KernelFeatures features = {});
  uint64_t device_bytes() const;

 private:
  GpuContext& gpu_;
  AudioConfig a_;
  int text_hidden_ = 0;
  std::unique_ptr<vk::BlockAllocator> weights_;
  Tensor conv0_, norm0_, conv1_, norm1_;  // [C0][1][3][3], [1][C0], [C1][C0][3][3], [1][C1]
  WeightMatrix input_proj_;               // [Ha][32 C1]
  std::vector<GpuAudioLayer> layers_;
  WeightMatrix output_proj_;  // [Oa][Ha]
  Tensor output_bias_;        // [1][Oa]
  WeightMatrix embed_proj_;   // [H][Oa]
};

}  // namespace vkg
