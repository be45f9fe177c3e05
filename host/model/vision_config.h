// VisionConfig: the Gemma 4 vision tower's configuration (config.json's `vision_config`) and the
// multimodal token ids of the top level (layer: host/model, CPU only). Math: docs/model.md §5.
#pragma once
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "host/model/audio_config.h"

namespace vkg {

// HF Gemma4VisionConfig, with its defaults (the released towers: hidden 768, 16 layers, 12 heads
// of 64, patch 16, pooling 3, position table 10240, theta 100, clipped linears, standardize).
struct VisionConfig {
  int hidden_size = 768;         // Hv
  int intermediate_size = 3072;  // Iv
  int num_hidden_layers = 16;
  int num_attention_heads = 12;         // NHv
  int num_key_value_heads = 12;         // KVHv
  int head_dim = 64;                    // Dv
  int patch_size = 16;                  // ps: a patch is ps x ps x 3 = 768 values (row, column, channel)
  int pooling_kernel_size = 3;          // k: a soft token averages k x k patches
  int position_embedding_size = 10240;  // rows of each of the x and y position tables
  float rope_theta = 100.f;             // 2D RoPE: first half of a head by x, second by y
  float rms_norm_eps = 1e-6f;
  bool use_clipped_linears = false;  // clamp every linear's input and output (stored bounds)
  bool standardize = false;          // (pooled - std_bias) * std_scale

  int patch_values() const { return 3 * patch_size * patch_size; }
};

// gemma4_unified (the 12B) has no vision tower: raw 48 x 48 patches go through LayerNorm, one linear,
// LayerNorm, + a factorized (x, y) position table, LayerNorm, an unscaled RMSNorm and one projection
// to the text width (HF Gemma4UnifiedVisionConfig + Gemma4UnifiedVisionEmbedder; docs/model.md §5.7).
struct UnifiedVisionConfig {
  static constexpr float kLayerNormEps = 1e-5f;  // HF's nn.LayerNorm default (not in the config)
  int patch_size = 16;                           // the processor's patches, merged k x k
  int pooling_kernel_size = 3;                   // k: a model patch is (k ps) x (k ps) x 3 = 6912 values
  int mm_embed_dim = 3840;                       // Dm: patch_dense's width
  int mm_posemb_size = 1120;                     // rows of the [rows][2][Dm] position table
  int output_proj_dims = 3840;                   // the projection's input width (= Dm)
  float rms_norm_eps = 1e-6f;
  int model_patch_size() const { return patch_size * pooling_kernel_size; }
  int patch_values() const { return 3 * model_patch_size() * model_patch_size(); }
};

// gemma4_unified's audio: no conformer; each 640-sample (40 ms at 16 kHz) frame of the raw waveform is
// one soft token: an unscaled RMSNorm and one projection to the text width (HF
// Gemma4UnifiedAudioConfig + Gemma4UnifiedMultimodalEmbedder; docs/model.md §5.7).
struct UnifiedAudioConfig {
  int audio_embed_dim = 640;  // samples per frame = per soft token
  float rms_norm_eps = 1e-6f;
};

// The multimodal part of a config.json: the tower (when `vision_config` is present and not null),
// the ids that frame and stand for an image in the prompt, and the text attention rule over them.
struct MultimodalConfig {
  bool has_vision = false;
  VisionConfig vision;
  // gemma4_unified: the image input is UnifiedVisionConfig's embedder, not a tower. `vision` then
  // holds only what the prompt checks read: patch_size, pooling_kernel_size and, as the bound of a
  // 16 px patch's (x, y), position_embedding_size = k * mm_posemb_size.
  bool vision_unified = false;
  UnifiedVisionConfig unified_vision;
  int image_token_id = -1;  // one per soft token; -1: none declared
  int boi_token_id = -1, eoi_token_id = -1;
  // text_config.use_bidirectional_attention == "vision": image tokens of one image see each other
  // in both directions on sliding layers (within the window); full layers stay causal.
  bool bidirectional_vision = false;
  // The audio tower (when `audio_config` is present and not null) and the ids of an audio clip:
  // BOA, one audio_token_id per soft token, EOA (config.json's boa_token_id / eoa_token_index /
  // audio_token_id). Audio tokens are always causal in the text model. docs/model.md §5.4.
  bool has_audio = false;
  AudioConfig audio;
  bool audio_unified = false;  // gemma4_unified: raw-sample frames (UnifiedAudioConfig), no tower
  UnifiedAudioConfig unified_audio;
  int audio_token_id = -1;
  int boa_token_id = -1, eoa_token_id = -1;
};

// Reads the top level's ids, `vision_config`, `audio_config` and text_config.use_bidirectional_attention. A
// vision_config the tower code cannot run (activation, heads not dividing, odd head size) throws
// vkg::Error naming `source` and the field.
MultimodalConfig ParseMultimodalConfig(const nlohmann::json& doc, const std::string& source);

}  // namespace vkg
