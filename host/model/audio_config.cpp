// config.json's `audio_config` -> AudioConfig, with HF Gemma4AudioConfig's defaults (layer: host/model).
#include "host/model/audio_config.h"

#include "host/error.h"
#include "host/model/field_reader.h"

namespace vkg {

AudioConfig ParseAudioConfig(const nlohmann::json& doc, const std::string& source) {
  FieldReader r(doc, source, "audio_config.");
  AudioConfig a;
  a.hidden_size = r.Int("hidden_size", a.hidden_size);
  a.num_hidden_layers = r.Int("num_hidden_layers", a.num_hidden_layers);
  a.num_attention_heads = r.Int("num_attention_heads", a.num_attention_heads);
  if (r.Has("subsampling_conv_channels")) {
    const nlohmann::json& ch = r.Raw("subsampling_conv_channels");
    if (!ch.is_array() || ch.size() != 2 || !ch[0].is_number_integer() || !ch[1].is_number_integer()) {
      r.Fail("subsampling_conv_channels", ch, "two integers");
    }
    a.subsampling_channels0 = ch[0].get<int>();
    a.subsampling_channels1 = ch[1].get<int>();
  }
  a.conv_kernel_size = r.Int("conv_kernel_size", a.conv_kernel_size);
  a.residual_weight = r.Float("residual_weight", a.residual_weight);
  a.attention_chunk_size = r.Int("attention_chunk_size", a.attention_chunk_size);
  a.attention_context_left = r.Int("attention_context_left", a.attention_context_left);
  a.attention_context_right = r.Int("attention_context_right", a.attention_context_right);
  a.attention_logit_cap = r.Float("attention_logit_cap", a.attention_logit_cap);
  a.attention_invalid_logits_value = r.Float("attention_invalid_logits_value", a.attention_invalid_logits_value);
  a.use_clipped_linears = r.Bool("use_clipped_linears", a.use_clipped_linears);
  a.rms_norm_eps = r.Float("rms_norm_eps", a.rms_norm_eps);
  a.gradient_clipping = r.Float("gradient_clipping", a.gradient_clipping);
  a.output_proj_dims = r.Int("output_proj_dims", a.output_proj_dims);
  const std::string act = r.String("hidden_act", "silu");
  if (act != "silu")
    throw Error(source + ": " + r.Path("hidden_act") + " \"" + act + "\" is not supported (expected silu)");
  auto positive = [&](const char* name, int value) {
    if (value <= 0) throw Error(source + ": " + r.Path(name) + " is " + std::to_string(value) + ", expected > 0");
  };
  positive("hidden_size", a.hidden_size);
  positive("num_hidden_layers", a.num_hidden_layers);
  positive("num_attention_heads", a.num_attention_heads);
  positive("subsampling_conv_channels", a.subsampling_channels0);
  positive("subsampling_conv_channels", a.subsampling_channels1);
  positive("conv_kernel_size", a.conv_kernel_size);
  positive("attention_chunk_size", a.attention_chunk_size);
  positive("output_proj_dims", a.output_proj_dims);
  if (a.attention_context_left < 2) {
    throw Error(source + ": " + r.Path("attention_context_left") + " is " + std::to_string(a.attention_context_left) +
                ", expected >= 2");
  }
  if (a.attention_context_right != 0) {
    throw Error(source + ": " + r.Path("attention_context_right") + " is " + std::to_string(a.attention_context_right) +
                ", expected 0 (the released towers are causal)");
  }
  if (a.hidden_size % a.num_attention_heads) {
    throw Error(source + ": " + r.Path("hidden_size") + " " + std::to_string(a.hidden_size) +
                " is not divisible by num_attention_heads " + std::to_string(a.num_attention_heads));
  }
  if (a.subsampling_channels0 % 4) {
    throw Error(source + ": " + r.Path("subsampling_conv_channels") + "[0] is " +
                std::to_string(a.subsampling_channels0) + ", expected a multiple of 4");
  }
  // HF sizes the input linear (C0 / 4) * C1 but feeds it (128 mel bins / 4) * C1 values.
  if (a.subsampling_channels0 / 4 != (AudioConfig::kMelBins + 3) / 4) {
    throw Error(source + ": " + r.Path("subsampling_conv_channels") + "[0] is " +
                std::to_string(a.subsampling_channels0) +
                ", expected 128 (the mel bins: HF sizes the input linear by it)");
  }
  return a;
}

}  // namespace vkg
