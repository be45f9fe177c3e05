// AudioConfig: the Gemma 4 audio tower's configuration (config.json's `audio_config`), HF's
// Gemma4AudioConfig with its defaults (layer: host/model, CPU only). Math: docs/model.md §5.4.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace vkg {

// The defaults are the released E2B / E4B towers' (HF configuration_gemma4.py): hidden 1024,
// 12 conformer layers, 8 heads of 128, subsampling channels [128, 32], chunks of 12 with 12 keys of
// left context, output 1536.
struct AudioConfig {
  static constexpr int kMelBins = 128;  // the feature extractor's bins: the subsampling's input width
  int hidden_size = 1024;               // Ha
  int num_hidden_layers = 12;
  int num_attention_heads = 8;      // NHa; head size Da = Ha / NHa
  int subsampling_channels0 = 128;  // C0: the first 3x3 stride-2 conv's output channels
  int subsampling_channels1 = 32;   // C1: the second's
  int conv_kernel_size = 5;         // Kc: the light conv block's depthwise causal kernel
  float residual_weight = 0.5f;     // the half-step feed-forwards' residual scale
  int attention_chunk_size = 12;    // queries per attention block
  int attention_context_left = 13;  // a query sees keys q - (left - 2) .. q (HF's window left - 1)
  int attention_context_right = 0;  // 0 only (HF's released value; causal)
  float attention_logit_cap = 50.f;
  float attention_invalid_logits_value = -1.0e9f;
  bool use_clipped_linears = true;
  float rms_norm_eps = 1e-6f;
  float gradient_clipping = 1e10f;  // every clamp(x, -g, g) of HF's layers
  int output_proj_dims = 1536;      // Oa: output_proj's width, embed_audio's input

  int head_dim() const { return hidden_size / num_attention_heads; }
  // Mel frames -> soft tokens: each stride-2 conv halves the rows, rounding up (HF's mask[::2]).
  static int SoftTokens(int frames) { return ((frames + 1) / 2 + 1) / 2; }
  // Width of the input linear: the mel bins after two halvings, times C1 (HF: (C0 / 4) * C1).
  int subsampled_width() const { return (subsampling_channels0 / 4) * subsampling_channels1; }
  int subsampled_bins() const { return (kMelBins + 3) / 4; }
};

// Reads `audio_config` (an object), HF's defaults for absent fields. A config the tower code cannot
// run (activation other than silu, right context, heads not dividing the width) throws vkg::Error
// naming `source` and the field.
AudioConfig ParseAudioConfig(const nlohmann::json& audio_config, const std::string& source);

}  // namespace vkg
