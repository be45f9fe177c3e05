// gemma4_unified's media input on the device (layer: host/runtime): the raw-patch image embedder
// and the raw-frame audio projection, op by op as host/reference/unified_media.h (docs/model.md
// §5.7). Its linears run on the product kernels (MatMul, in the compute format), its norms on
// layer_norm.comp and the RMSNorm kernels; the position table stays in host memory (rows gathered
// per image, as the vision tower's). GpuVisionTower / GpuAudioTower hand unified models to it.
#pragma once
#include <memory>
#include <vector>

#include "host/device/tensor.h"
#include "host/device/weight_matrix.h"
#include "host/device/weight_source.h"
#include "host/model/audio_features.h"
#include "host/model/image_patches.h"
#include "host/ops/kernel_family.h"
#include "vk/buffer.h"

namespace vkg {

class GpuContext;

class GpuUnifiedMedia {
 public:
  // Uploads what source.config() declares: the image embedder (mm.vision_unified) and/or the audio
  // projection (mm.audio_unified); matrices in `format`.
  GpuUnifiedMedia(const WeightSource& source, GpuContext& gpu, DType format);
  ~GpuUnifiedMedia();

  // One image's soft tokens [N / k^2][H]: 3x3-merged patches (host), LN1, patch_dense + bias, LN2,
  // + position rows, LN3, RMSNorm, projection; one recorded command buffer.
  std::vector<float> EncodeImage(const ImagePatches& image, KernelFamily kernels, KernelFeatures features);
  // One clip's soft tokens [frames][H]: RMSNorm of each raw frame, projection.
  std::vector<float> EncodeAudio(const AudioFeatures& clip, KernelFamily kernels, KernelFeatures features);
  uint64_t device_bytes() const;

 private:
  const WeightSource& source_;
  GpuContext& gpu_;
  std::unique_ptr<vk::BlockAllocator> weights_;
  // image embedder
  Tensor ln1_w_, ln1_b_, dense_b_, ln2_w_, ln2_b_, pos_w_, pos_b_;  // [1][P] / [1][Dm] f32
  WeightMatrix dense_;                                              // [Dm][P]
  WeightMatrix vision_proj_;                                        // [H][Dm]
  // audio
  WeightMatrix audio_proj_;  // [H][640]
};

}  // namespace vkg
