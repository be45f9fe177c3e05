// ModelConfig: the Gemma 4 text-decoder configuration read from a checkpoint's config.json
// (layer: host/model, CPU only). Field meanings and HF defaults: docs/model.md §1.2.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "host/model/vision_config.h"

namespace vkg {

// Everything a layer's kernels need to know, derived once from the config (docs/model.md §2.4-§2.7).
struct LayerInfo {
  bool full = false;        // full (global) attention; false = sliding window
  int head_dim = 0;         // D: head_dim on sliding layers, global_head_dim on full layers
  int n_kv_heads = 0;       // KVH (full layers: num_global_key_value_heads when k_eq_v)
  bool has_v = true;        // false on full layers with attention_k_eq_v (V = raw K projection)
  int kv_source_layer = 0;  // this layer's own index if it owns a KV cache, else the layer it reads
  int ffn_dim = 0;          // dense MLP width (doubled on KV-shared layers with use_double_wide_mlp)
  float rope_theta = 0.f;
  int rope_pairs = 0;  // rotated (i, i + D/2) pairs; inv_freq is 0 beyond them
  int window = 0;      // sliding window W (keys i-W+1 .. i); 0 for full layers

  bool owns_kv(int self) const { return kv_source_layer == self; }
};

struct ModelConfig {
  std::string model_type;  // "gemma4" or "gemma4_unified" (the family, whatever the file nests)
  bool unified = false;    // gemma4_unified: no PLE / MoE fields at all

  int vocab_size = 262144;
  int hidden_size = 2304;
  int intermediate_size = 9216;
  int num_hidden_layers = 30;
  int num_attention_heads = 8;
  int num_key_value_heads = 4;
  int num_global_key_value_heads = 0;  // 0 = null in config.json
  int head_dim = 256;
  int global_head_dim = 512;
  int sliding_window = 512;
  int max_position_embeddings = 131072;
  float rms_norm_eps = 1e-6f;
  float final_logit_softcapping = 0.f;  // 0 = null (no cap)
  bool tie_word_embeddings = true;
  bool attention_k_eq_v = false;

  int hidden_size_per_layer_input = 256;  // P; 0 = no per-layer embeddings
  int vocab_size_per_layer_input = 262144;
  int num_kv_shared_layers = 0;
  bool use_double_wide_mlp = false;

  bool enable_moe_block = false;
  int num_experts = 0;
  int top_k_experts = 0;
  int moe_intermediate_size = 0;

  int pad_token_id = 0, eos_token_id = 1, bos_token_id = 2;
  std::vector<std::string> layer_types;  // "sliding_attention" / "full_attention", one per layer

  // rope_parameters, per layer type.
  float rope_theta_sliding = 10000.f;
  float rope_theta_full = 1000000.f;
  float partial_rotary_factor_full = 0.25f;  // "proportional" rope on full layers
  float partial_rotary_factor_sliding = 1.f;

  // The vision tower and the image token ids (absent tower: mm.has_vision false). docs/model.md §5.
  MultimodalConfig mm;

  // Derived by Finish(): one entry per layer.
  std::vector<LayerInfo> layers;

  bool has_ple() const { return !unified && hidden_size_per_layer_input > 0; }
  bool has_moe() const { return !unified && enable_moe_block; }
  // First layer that reads another layer's KV; num_hidden_layers when none does.
  int first_kv_shared_layer() const;
  // x0 = embed * bf16(sqrt(H)): HF casts the scale to the weight dtype (bf16) first (§2.2).
  float embed_scale() const;
  // Same rule for the per-layer-embedding table: bf16(sqrt(P)).
  float ple_embed_scale() const;

  // Applies the layer_types default (5:1, last layer forced full), fills `layers` from the
  // fields above, then runs Validate. Call after changing any field by hand.
  void Finish(const std::string& source = "config.json");
  // Consistency checks (positive sizes, heads divisible by KV heads, a KV source for every shared
  // layer, ...); throws vkg::Error naming `source` (usually "config.json").
  void Validate(const std::string& source = "config.json") const;
};

// Parses a config.json document: nested (`text_config`, as released) or flat (text-only export).
// Missing fields take the HF defaults of the model type. Throws vkg::Error naming `source`.
ModelConfig ParseConfig(const nlohmann::json& doc, const std::string& source = "config.json");

// Reads and parses `path` (a config.json file). Throws vkg::Error on a missing or malformed file.
ModelConfig LoadConfig(const std::filesystem::path& path);

}  // namespace vkg
