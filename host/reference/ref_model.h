// CPU reference of the whole Gemma 4 text forward pass, float32, built from ref_ops
// (layer: host/reference). Follows docs/model.md §2 step by step; the GPU path and the
// HF fixtures are compared against it. Incremental: a KvCache carries state between calls.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "host/model/checkpoint.h"
#include "host/model/config.h"

namespace vkg::ref {

// Every weight as float32 (converted from the checkpoint's bf16). Absent tensors stay empty.
struct LayerWeights {
  std::vector<float> input_norm, post_attn_norm, pre_ffn_norm, post_ffn_norm;  // [H]
  std::vector<float> q_proj;                                                   // [NH*D, H]
  std::vector<float> q_norm, k_norm;                                           // [D]
  std::vector<float> k_proj, v_proj;  // [KVH*D, H]; empty on KV-shared layers (v: and k_eq_v)
  std::vector<float> o_proj;          // [H, NH*D]
  std::vector<float> gate, up;        // [I, H]
  std::vector<float> down;            // [H, I]
  float layer_scalar = 1.f;
  // MoE (every layer of a MoE model), beside the dense MLP above.
  std::vector<float> router_proj;       // [E, H]
  std::vector<float> router_scale;      // [H]
  std::vector<float> per_expert_scale;  // [E]
  std::vector<float> experts_gate_up;   // [E, 2*I_moe, H]: gate rows first, then up rows
  std::vector<float> experts_down;      // [E, H, I_moe]
  std::vector<float> pre_ffn_norm_2, post_ffn_norm_1, post_ffn_norm_2;  // [H]
  // Per-layer embeddings (E2B/E4B).
  std::vector<float> ple_gate;       // [P, H]
  std::vector<float> ple_proj;       // [H, P]
  std::vector<float> ple_post_norm;  // [H]
};

struct ModelWeights {
  std::vector<float> embed;           // [V, H]; also the output head when tied
  std::vector<float> lm_head;         // [V, H] only when tie_word_embeddings is false
  std::vector<float> final_norm;      // [H]
  std::vector<float> ple_embed;       // [V_ple, L*P], layer-major within a row
  std::vector<float> ple_model_proj;  // [L*P, H]
  std::vector<float> ple_proj_norm;   // [P]
  std::vector<LayerWeights> layers;

  static ModelWeights Load(const Checkpoint& ckpt);
};

// Per-layer K/V of the positions seen so far. Only layers that own their KV store anything
// (KV-shared layers read their source layer). Full layers keep the whole context; sliding layers
// keep a ring of window - 1 + (largest chunk so far) slots: enough for every query of a chunk to
// see its W keys while the chunk's own keys are written first.
class KvCache {
 public:
  // storage: the format keys and values are rounded to when written (f32: exact, the default;
  // f16, q8_0, q4_0: what the device's cache of that format holds, host/formats/dtype.h RoundTripKv).
  // rotate: a Hadamard rotation of each head around the rounding (RoundTripKv; measurement only).
  explicit KvCache(const ModelConfig& config, DType storage = DType::F32, bool rotate = false);
  DType storage() const { return storage_; }
  int n_past() const { return n_past_; }  // positions stored (the next start_pos)
  int slots(int layer) const;             // ring/context length of an owning layer; 0 otherwise
  void Reset();
  // Forgets positions n .. n_past() - 1 so evaluation continues at n. Returns false (and changes
  // nothing) when a sliding layer's ring no longer holds the window that position n needs.
  bool Truncate(int n);

 private:
  friend class Model;
  struct Layer {
    int slots = 0;
    std::vector<float> k, v;  // [slots][KVH][D]; position j lives in slot j % slots
  };
  // Makes room to append positions start .. start + n - 1 to every owning layer.
  void Reserve(int start, int n);

  std::vector<LayerInfo> info_;  // [n_layers]; a copy, so the cache need not outlive the config
  std::vector<Layer> layers_;    // [n_layers]
  int n_past_ = 0;
  DType storage_ = DType::F32;
  bool rotate_ = false;
};

// Called after each layer with the residual stream x: [n_tokens][H]. For per-layer diffing.
using LayerObserver = std::function<void(int layer, const float* x, int n_tokens)>;

class Model {
 public:
  explicit Model(const Checkpoint& ckpt);
  Model(ModelConfig config, ModelWeights weights);

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }

  // Runs tokens at positions start_pos .. start_pos + n - 1 (start_pos must equal
  // cache.n_past()), appends their K/V to the cache and returns logits [n][vocab].
  std::vector<float> Forward(std::span<const int32_t> tokens, int start_pos, KvCache& cache,
                             const LayerObserver& observer = nullptr) const;
  // The same with images (docs/model.md §5.3): soft_tokens [n][H] replace, in order, the embeddings
  // of the n image_token_id (and, with an audio tower, audio_token_id) positions of `tokens`
  // (unscaled; their per-layer embeddings read the pad row; audio §5.6). Under use_bidirectional_attention "vision", each run of image tokens (one image: whole
  // inside this call) sees itself in both directions on sliding layers. Throws
  // std::invalid_argument when n does not match.
  std::vector<float> ForwardWithImages(std::span<const int32_t> tokens, int start_pos, KvCache& cache,
                                       std::span<const float> soft_tokens,
                                       const LayerObserver& observer = nullptr) const;

 private:
  // Per-layer embeddings for the chunk: [T][L][P] (docs/model.md §2.3).
  std::vector<float> PerLayerInputs(std::span<const int32_t> tokens, const std::vector<float>& x0) const;
  // x += post_attn_norm(attention(input_norm(x))) for one layer (§2.4, §2.6).
  // last_key: [T] the last key position each query sees on sliding layers (bidirectional image
  // runs), empty for causal.
  void AttentionBlock(int l, std::vector<float>& x, int T, int start_pos, KvCache& cache,
                      const std::vector<int32_t>& positions, const std::vector<int32_t>& last_key) const;
  // Dense MLP down(gelu(gate m) * up m) of rows m: [T][H] -> [T][H], width I.
  void Mlp(const float* gate, const float* up, const float* down, int I, const float* m, float* out, int T) const;
  // Feed-forward block with its residual: dense (§2.7) or dense + experts (MoE).
  void FfnBlock(int l, std::vector<float>& x, int T) const;
  // x += post_ple_norm(proj(gelu(gate x) * ple[l])) (§2.3, after the FFN residual).
  void PleBlock(int l, std::vector<float>& x, int T, const std::vector<float>& ple) const;

  ModelConfig config_;
  ModelWeights weights_;
  std::vector<std::vector<float>> inv_freq_;  // [n_layers][D/2]
};

}  // namespace vkg::ref
