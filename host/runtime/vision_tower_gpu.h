// The Gemma 4 vision tower on the device: its weights (linears in the compute format, norms and
// clamp bounds f32; the position tables stay in host memory like the per-layer-embedding table) and
// one image's encode, op by op as ref::VisionTower (host/reference/vision_tower.h) and docs/model.md
// §5.2 (layer: host/runtime).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "host/device/tensor.h"
#include "host/device/weight_matrix.h"
#include "host/device/weight_source.h"
#include "host/model/image_patches.h"
#include "host/ops/kernel_family.h"
#include "host/runtime/clipped_linear_gpu.h"
#include "vk/buffer.h"

namespace vkg {

class GpuContext;

struct GpuVisionLayer {
  Tensor input_norm, post_attn_norm, pre_ffn_norm, post_ffn_norm;  // [1][Hv] f32
  GpuClippedLinear q, k, v, o;                                     // [NH*D | KVH*D][Hv], o: [Hv][NH*D]
  Tensor q_norm, k_norm;                                           // [1][D] f32
  GpuClippedLinear gate, up, down;                                 // [Iv][Hv], down: [Hv][Iv]
};

class GpuVisionTower {
 public:
  // Uploads the tower of source.config() (mm.has_vision) to the device; matrices in `format`.
  GpuVisionTower(const WeightSource& source, GpuContext& gpu, DType format);
  ~GpuVisionTower();

  // Soft tokens of one image, [S][H] (H = the text width): the encoder, pooler, standardize and
  // embed_vision on the device, one recorded command buffer. Scratch is allocated for the image's
  // patches and freed after (an image is encoded once per prompt, not per token).
  std::vector<float> Encode(const ImagePatches& image, KernelFamily kernels = KernelFamily::kDevice,
                            KernelFeatures features = {});
  uint64_t device_bytes() const;

 private:
  const WeightSource& source_;
  GpuContext& gpu_;
  VisionConfig v_;
  int text_hidden_ = 0;
  std::unique_ptr<vk::BlockAllocator> weights_;
  WeightMatrix patch_proj_;  // [Hv][3 ps ps]
  std::vector<GpuVisionLayer> layers_;
  Tensor std_bias_, std_scale_;  // [1][Hv] (standardize)
  WeightMatrix embed_proj_;      // [H][Hv]
  Tensor inv_freq_;              // [1][D/4]
};

}  // namespace vkg
