// config.json -> MultimodalConfig: `vision_config` with HF Gemma4VisionConfig's defaults, the
// image token ids and the text attention rule over image tokens (layer: host/model).
#include "host/model/vision_config.h"

#include "host/error.h"
#include "host/model/field_reader.h"

#include <nlohmann/json.hpp>

namespace vkg {
namespace {

using nlohmann::json;

VisionConfig ReadVision(const FieldReader& r, const std::string& source) {
  VisionConfig v;
  v.hidden_size = r.Int("hidden_size", v.hidden_size);
  v.intermediate_size = r.Int("intermediate_size", v.intermediate_size);
  v.num_hidden_layers = r.Int("num_hidden_layers", v.num_hidden_layers);
  v.num_attention_heads = r.Int("num_attention_heads", v.num_attention_heads);
  v.num_key_value_heads = r.Int("num_key_value_heads", v.num_key_value_heads);
  v.head_dim = r.Int("head_dim", v.head_dim);
  v.patch_size = r.Int("patch_size", v.patch_size);
  v.pooling_kernel_size = r.Int("pooling_kernel_size", v.pooling_kernel_size);
  v.position_embedding_size = r.Int("position_embedding_size", v.position_embedding_size);
  v.rms_norm_eps = r.Float("rms_norm_eps", v.rms_norm_eps);
  v.use_clipped_linears = r.Bool("use_clipped_linears", v.use_clipped_linears);
  v.standardize = r.Bool("standardize", v.standardize);
  const std::string act = r.String("hidden_activation", "gelu_pytorch_tanh");
  if (act != "gelu_pytorch_tanh") {
    throw Error(source + ": " + r.Path("hidden_activation") + " \"" + act +
                "\" is not supported (expected gelu_pytorch_tanh)");
  }
  if (r.Bool("attention_bias", false)) throw Error(source + ": " + r.Path("attention_bias") + " true is not supported");
  if (r.Has("rope_parameters")) {
    const json& p = r.Raw("rope_parameters");
    if (!p.is_object()) r.Fail("rope_parameters", p, "an object");
    FieldReader rope(p, source, r.Path("rope_parameters") + ".");
    const std::string type = rope.String("rope_type", "default");
    if (type != "default") {
      throw Error(source + ": " + rope.Path("rope_type") + " \"" + type + "\" is not supported (expected default)");
    }
    v.rope_theta = rope.Float("rope_theta", v.rope_theta);
  }
  auto positive = [&](const char* name, int value) {
    if (value <= 0) throw Error(source + ": " + r.Path(name) + " is " + std::to_string(value) + ", expected > 0");
  };
  positive("hidden_size", v.hidden_size);
  positive("intermediate_size", v.intermediate_size);
  positive("num_hidden_layers", v.num_hidden_layers);
  positive("num_attention_heads", v.num_attention_heads);
  positive("num_key_value_heads", v.num_key_value_heads);
  positive("head_dim", v.head_dim);
  positive("patch_size", v.patch_size);
  positive("pooling_kernel_size", v.pooling_kernel_size);
  positive("position_embedding_size", v.position_embedding_size);
  // 2D RoPE rotates pairs (i, i + D/4) within each half of a head: D must split in four.
  if (v.head_dim % 4) {
    throw Error(source + ": " + r.Path("head_dim") + " is " + std::to_string(v.head_dim) +
                ", expected a multiple of 4 (2D RoPE)");
  }
  if (v.num_attention_heads % v.num_key_value_heads) {
    throw Error(source + ": " + r.Path("num_attention_heads") + " " + std::to_string(v.num_attention_heads) +
                " is not divisible by num_key_value_heads " + std::to_string(v.num_key_value_heads));
  }
  return v;
}

}  // namespace

MultimodalConfig ParseMultimodalConfig(const json& doc, const std::string& source) {
  MultimodalConfig m;
  if (!doc.is_object()) return m;
  FieldReader top(doc, source, "");
  m.image_token_id = top.Int("image_token_id", -1);
  m.boi_token_id = top.Int("boi_token_id", -1);
  m.eoi_token_id = top.Int("eoi_token_id", -1);
  const bool nested = doc.contains("text_config") && doc.at("text_config").is_object();
  FieldReader text(nested ? doc.at("text_config") : doc, source, nested ? "text_config." : "");
  m.bidirectional_vision = text.String("use_bidirectional_attention", "") == "vision";
  if (top.Has("vision_config")) {
    const json& vc = top.Raw("vision_config");
    if (!vc.is_object()) top.Fail("vision_config", vc, "an object or null");
    m.vision = ReadVision(FieldReader(vc, source, "vision_config."), source);
    m.has_vision = true;
    if (m.image_token_id < 0) {
      throw Error(source + ": vision_config is present but image_token_id is missing");
    }
  }
  m.audio_token_id = top.Int("audio_token_id", -1);
  m.boa_token_id = top.Int("boa_token_id", -1);
  m.eoa_token_id = top.Int("eoa_token_index", top.Int("eoa_token_id", -1));
  if (top.Has("audio_config")) {
    const json& ac = top.Raw("audio_config");
    if (!ac.is_object()) top.Fail("audio_config", ac, "an object or null");
    // gemma4_unified's raw-frame audio (no conformer) is not implemented: such a model runs text
    // and images, and refuses audio as a model without a tower does.
    const bool raw_frames = ac.contains("model_type") && ac.at("model_type") == "gemma4_unified_audio";
    if (!raw_frames) {
      m.audio = ParseAudioConfig(ac, source);
      m.has_audio = true;
    }
    if (m.has_audio && m.audio_token_id < 0)
      throw Error(source + ": audio_config is present but audio_token_id is missing");
  }
  return m;
}

}  // namespace vkg
