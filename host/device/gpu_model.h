// Gemma 4 weights on the device, converted to the compute format while uploading (layer: host/device).
// Shapes follow PyTorch [out, in]; every linear layer is a WeightMatrix, norms are f32 vectors.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "host/device/tensor.h"
#include "host/device/upload_progress.h"
#include "host/device/weight_matrix.h"
#include "host/device/weight_source.h"
#include "host/model/checkpoint.h"
#include "host/model/config.h"
#include "vk/buffer.h"

namespace vkg {

class GpuContext;

struct GpuLayer {
  Tensor input_norm, post_attn_norm, pre_ffn_norm, post_ffn_norm;  // [1][H] f32
  // q_proj, k_proj and v_proj stacked into one product that reads the normed input once:
  // [NH*D + kv_rows + v_rows][H], rows q then k then v. KV-shared layers have no k or v rows
  // (kv_rows = 0); K=V full layers no v rows (v_rows = 0: V is the raw K).
  WeightMatrix qkv;
  uint32_t kv_rows = 0, v_rows = 0;  // KVH*D or 0
  Tensor q_norm, k_norm;             // [1][D] f32
  WeightMatrix o_proj;               // [H][NH*D]
  WeightMatrix gate_up;              // [2I][H]: rows [0, I) gate_proj, [I, 2I) up_proj (one product)
  WeightMatrix down;                 // [H][I]
  float layer_scalar = 1.f;
  // Mixture of experts (26B-A4B: every layer, beside the dense MLP).
  std::optional<WeightMatrix> router;           // [E][H] f32, router.scale * H^-0.5 folded into columns
  Tensor per_expert_scale;                      // [1][E] f32
  std::optional<WeightMatrix> experts_gate_up;  // [E*2*I_moe][H]: expert e owns rows [e*2I, (e+1)*2I), gate first
  std::optional<WeightMatrix> experts_down;     // [E*H][I_moe]: expert e owns rows [e*H, (e+1)*H)
  Tensor pre_ffn_norm_2, post_ffn_norm_1, post_ffn_norm_2;  // [1][H] f32
  // Per-layer embeddings (E2B/E4B).
  std::optional<WeightMatrix> ple_gate;  // [P][H]
  std::optional<WeightMatrix> ple_proj;  // [H][P]
  Tensor ple_post_norm;                  // [1][H] f32
};

// The format of a matrix uploaded with a constant folded into its rows (the per-layer model
// projection, x H^-0.5) under compute format `format`: f16 where that is a K-quant, whose f16
// super-block scales d (about max / (15 x 63) for Q4_K) fall into f16's subnormal range once the
// rows are scaled (0.05-sized weights x 1/8 lost up to half of a Q6_K value; real E2B weights x
// 1536^-0.5 would too); else the format itself.
DType ScaledMatrixFormat(DType format, float scale);

class GpuModel {
 public:
  // Uploads every text-decoder tensor the config implies. Linear layers take `format`; norms,
  // scalars and the router stay f32. The per-layer-embedding table stays in the checkpoint's
  // mapping on the host: only the rows of the current tokens are ever uploaded.
  // own_types: a matrix stored block-quantized in the source (a GGUF file) keeps its own type,
  // K-quant blocks uploaded as stored (gpu_model.cpp's TypeOf says when it cannot).
  GpuModel(std::unique_ptr<WeightSource> source, GpuContext& gpu, DType format,
           const UploadProgress& progress = nullptr, bool own_types = false);

  const ModelConfig& config() const { return config_; }
  DType format() const { return format_; }
  // The types the matrices were uploaded in, "q4_k+q6_k+f32" (the format alone unless own_types).
  std::string formats() const;
  const GpuLayer& layer(int l) const { return layers_[size_t(l)]; }
  const WeightMatrix& embed() const { return embed_; }  // [V][H]: the input table and the tied head
  const WeightMatrix& head() const { return lm_head_ ? *lm_head_ : embed_; }
  const Tensor& final_norm() const { return final_norm_; }
  const Tensor& ple_proj_norm() const { return ple_proj_norm_; }  // [1][P] f32
  // [L*P][H] per_layer_model_projection (times H^-0.5): every layer's context rows in one product.
  const WeightMatrix& ple_model_proj() const { return *ple_model_proj_; }
  // Row `id` of the per-layer-embedding table [V_ple][L*P] (host memory), times bf16(sqrt(P)).
  const RowSource& ple_row() const { return ple_rows_; }
  uint64_t device_bytes() const { return weights_->allocated_bytes(); }

  // Device bytes a checkpoint's weights take in `format` (for `info` and for context sizing).
  // own: a tensor's own stored type where it keeps it (own_types), else nullopt.
  using StoredTypeOf = std::function<std::optional<DType>(const std::string& name)>;
  // types: filled with the types the matrices take (as formats() lists them after an upload).
  static uint64_t EstimateBytes(const ModelConfig& config, DType format, const StoredTypeOf& own = nullptr,
                                std::set<DType>* types = nullptr);

 private:
  std::unique_ptr<WeightSource> source_;
  ModelConfig config_;
  DType format_;
  std::set<DType> formats_;
  std::unique_ptr<vk::BlockAllocator> weights_;
  std::vector<GpuLayer> layers_;
  WeightMatrix embed_;
  std::optional<WeightMatrix> lm_head_;
  std::optional<WeightMatrix> ple_model_proj_;
  Tensor final_norm_, ple_proj_norm_;
  RowSource ple_rows_;
};

}  // namespace vkg
