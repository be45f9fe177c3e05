// The single list of every text-decoder tensor a ModelConfig implies, with its expected shape
// (layer: host/model). Loaders, checks and the checkpoint generator all walk this list.
// Names are per-model (no "model.language_model." prefix); shapes are PyTorch [out, in].
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "host/model/config.h"

namespace vkg {

class WeightsFile;

// What a tensor is, so generators and loaders need not parse names.
enum class TensorRole {
  kEmbedding,       // token / per-layer embedding tables, lm_head
  kMatrix,          // projections [out, in] and expert stacks [E, out, in]
  kNorm,            // RMSNorm weights, used as stored (no +1)
  kLayerScalar,     // layers.N.layer_scalar, shape [1]
  kRouterScale,     // router.scale [H]
  kPerExpertScale,  // router.per_expert_scale [E]
  kClipBound,       // vision clippable linears: input_min / input_max / output_min / output_max, shape []
  kVisionVector,    // vision_tower.std_bias / std_scale [Hv]; gemma4_unified's LayerNorm weights and biases
  kAudioVector,     // audio tower tensors kept f32 on every path: convolution kernels, per_dim_scale, biases
};

struct TensorSpec {
  std::string name;            // e.g. "layers.3.self_attn.q_proj.weight"
  std::vector<int64_t> shape;  // e.g. {NH * D, H}
  int layer = -1;              // -1 for model-wide tensors
  TensorRole role = TensorRole::kMatrix;
};

// Calls fn for every tensor, model-wide ones first (embed_tokens, PLE), then layer by layer,
// then norm (and lm_head when the embeddings are not tied). docs/model.md §3.1.
void ForEachTensor(const ModelConfig& config, const std::function<void(const TensorSpec&)>& fn);

// Calls fn for every vision-tower tensor when config.mm.has_vision (names without "model.":
// "vision_tower.encoder.layers.0.self_attn.q_proj.linear.weight", "embed_vision.embedding_projection.weight";
// layer = the encoder layer or -1). docs/model.md §5.1.
void ForEachVisionTensor(const ModelConfig& config, const std::function<void(const TensorSpec&)>& fn);

// Calls fn for every audio-tower tensor when config.mm.has_audio (names without "model.":
// "audio_tower.layers.0.self_attn.q_proj.linear.weight", "embed_audio.embedding_projection.weight";
// layer = the conformer layer or -1). docs/model.md §5.4.
void ForEachAudioTensor(const ModelConfig& config, const std::function<void(const TensorSpec&)>& fn);

// True for the weights the GPU stores in the compute format (--weights): every linear layer and the
// token embedding. Not the router (kept f32: routing must not move with the format), nor the
// per-layer-embedding table (it stays in host memory as stored), nor norms and scalars.
bool InComputeFormat(const TensorSpec& spec);

// Verifies every listed text-decoder tensor is present with the expected shape and a float dtype (BF16, F16 or
// F32) before anything runs. Throws vkg::Error like
//   "model.safetensors: tensor layers.3.self_attn.q_proj.weight has shape [64, 48], expected [64, 64]".
// Tensors the list does not name (e.g. k_proj on KV-shared layers, which HF ignores) are allowed.
void CheckTensors(const ModelConfig& config, const WeightsFile& weights);
// The same for the vision tower's tensors, checked when the tower is first loaded (a checkpoint
// whose config declares a tower its files lack still runs text; an image then gets one error line
// naming the first missing tensor).
void CheckVisionTensors(const ModelConfig& config, const WeightsFile& weights);
// The same for the audio tower's (first audio clip).
void CheckAudioTensors(const ModelConfig& config, const WeightsFile& weights);

}  // namespace vkg
