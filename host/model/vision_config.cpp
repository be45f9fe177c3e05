// config.json -> MultimodalConfig: `vision_config` with HF Gemma4VisionConfig's defaults (or
// gemma4_unified's raw-patch embedder, Gemma4UnifiedVisionConfig), the image token ids and the text attention rule over image tokens (layer: host/model).
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

UnifiedVisionConfig ReadUnifiedVision(const FieldReader& r, const std::string& source) {
  UnifiedVisionConfig v;
  v.patch_size = r.Int("patch_size", v.patch_size);
  v.pooling_kernel_size = r.Int("pooling_kernel_size", v.pooling_kernel_size);
  v.mm_embed_dim = r.Int("mm_embed_dim", v.mm_embed_dim);
  v.mm_posemb_size = r.Int("mm_posemb_size", v.mm_posemb_size);
  v.output_proj_dims = r.Int("output_proj_dims", v.output_proj_dims);
  v.rms_norm_eps = r.Float("rms_norm_eps", v.rms_norm_eps);
  auto positive = [&](const char* name, int value) {
    if (value <= 0) throw Error(source + ": " + r.Path(name) + " is " + std::to_string(value) + ", expected > 0");
  };
  positive("patch_size", v.patch_size);
  positive("pooling_kernel_size", v.pooling_kernel_size);
  positive("mm_embed_dim", v.mm_embed_dim);
  positive("mm_posemb_size", v.mm_posemb_size);
  // HF feeds the last LayerNorm's output (mm_embed_dim wide) to a Linear(output_proj_dims, hidden).
  if (v.output_proj_dims != v.mm_embed_dim) {
    throw Error(source + ": " + r.Path("output_proj_dims") + " " + std::to_string(v.output_proj_dims) +
                " differs from mm_embed_dim " + std::to_string(v.mm_embed_dim) +
                " (the embedder projects the mm_embed_dim-wide patches)");
  }
  return v;
}

UnifiedAudioConfig ReadUnifiedAudio(const FieldReader& r, const std::string& source) {
  UnifiedAudioConfig a;
  a.audio_embed_dim = r.Int("audio_embed_dim", a.audio_embed_dim);
  a.rms_norm_eps = r.Float("rms_norm_eps", a.rms_norm_eps);
  if (a.audio_embed_dim <= 0) {
    throw Error(source + ": " + r.Path("audio_embed_dim") + " is " + std::to_string(a.audio_embed_dim) +
                ", expected > 0");
  }
  return a;
}

// A sub-config of gemma4_unified's raw-input kind: its model_type says so, or it has none and the
// top level is gemma4_unified.
bool IsUnified(const json& sub, const char* unified_type, bool unified_top) {
  if (sub.contains("model_type") && sub.at("model_type").is_string()) return sub.at("model_type") == unified_type;
  return unified_top;
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
  std::string family = top.String("model_type", "");
  if (family.empty() && nested) family = text.String("model_type", "");
  const bool unified_top = family == "gemma4_unified" || family == "gemma4_unified_text";
  // Gemma4UnifiedTextConfig defaults use_bidirectional_attention to "vision"; Gemma4TextConfig to null.
  m.bidirectional_vision = text.String("use_bidirectional_attention", unified_top ? "vision" : "") == "vision";
  if (top.Has("vision_config")) {
    const json& vc = top.Raw("vision_config");
    if (!vc.is_object()) top.Fail("vision_config", vc, "an object or null");
    const FieldReader vr(vc, source, "vision_config.");
    if (IsUnified(vc, "gemma4_unified_vision", unified_top)) {
      m.vision_unified = true;
      m.unified_vision = ReadUnifiedVision(vr, source);
      m.vision.patch_size = m.unified_vision.patch_size;
      m.vision.pooling_kernel_size = m.unified_vision.pooling_kernel_size;
      m.vision.position_embedding_size = m.unified_vision.pooling_kernel_size * m.unified_vision.mm_posemb_size;
    } else {
      m.vision = ReadVision(vr, source);
    }
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
    if (IsUnified(ac, "gemma4_unified_audio", unified_top)) {
      m.audio_unified = true;
      m.unified_audio = ReadUnifiedAudio(FieldReader(ac, source, "audio_config."), source);
    } else {
      m.audio = ParseAudioConfig(ac, source);
    }
    m.has_audio = true;
    if (m.audio_token_id < 0) throw Error(source + ": audio_config is present but audio_token_id is missing");
  }
  return m;
}

}  // namespace vkg
