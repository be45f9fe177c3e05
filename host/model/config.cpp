// config.json -> ModelConfig, with the HF defaults of Gemma4TextConfig / Gemma4UnifiedTextConfig
// (layer: host/model). Rules: docs/model.md §1.2, §2.4-§2.7.
#include "host/model/config.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "host/error.h"
#include "host/formats/dtype.h"
#include "host/model/field_reader.h"

namespace vkg {
namespace {

using nlohmann::json;

// Maps every accepted model_type to its family; returns false for anything else.
bool FamilyOf(const std::string& model_type, bool* unified) {
  if (model_type == "gemma4" || model_type == "gemma4_text") {
    *unified = false;
    return true;
  }
  if (model_type == "gemma4_unified" || model_type == "gemma4_unified_text") {
    *unified = true;
    return true;
  }
  return false;
}

// rope_parameters[layer_type]: theta and the rotated fraction. Only the rope types the released
// models use are accepted; anything else would silently compute different positions.
void ReadRope(const FieldReader& text, const std::string& source, const char* type_key, const char* expected_type,
              float* theta, float* factor) {
  if (!text.Has("rope_parameters")) return;
  const json& all = text.Raw("rope_parameters");
  if (!all.is_object()) text.Fail("rope_parameters", all, "an object keyed by layer type");
  if (!all.contains(type_key) || all.at(type_key).is_null()) return;
  const json& p = all.at(type_key);
  const std::string prefix = text.Path("rope_parameters") + "." + type_key + ".";
  if (!p.is_object())
    throw Error(source + ": " + prefix.substr(0, prefix.size() - 1) + " is " + p.dump() + ", expected an object");
  FieldReader r(p, source, prefix);
  const std::string rope_type = r.String("rope_type", expected_type);
  if (rope_type != "default" && rope_type != "proportional") {
    throw Error(source + ": " + r.Path("rope_type") + " \"" + rope_type +
                "\" is not supported (expected default or proportional)");
  }
  *theta = r.Float("rope_theta", *theta);
  *factor = r.Float("partial_rotary_factor", rope_type == "proportional" ? *factor : 1.f);
  if (r.Has("factor") && r.Float("factor", 1.f) != 1.f) {
    throw Error(source + ": " + r.Path("factor") + " is " + r.Raw("factor").dump() + ", only 1.0 is supported");
  }
  if (rope_type == "default" && *factor != 1.f) {
    throw Error(source + ": " + r.Path("partial_rotary_factor") + " must be 1.0 for rope_type default");
  }
}

}  // namespace

int ModelConfig::first_kv_shared_layer() const {
  const int first = num_hidden_layers - num_kv_shared_layers;
  // HF: a layer is KV-shared iff layer_idx >= first_kv_shared_layer_idx > 0.
  return first > 0 ? first : num_hidden_layers;
}

float ModelConfig::embed_scale() const { return RoundTripBf16(std::sqrt(float(hidden_size))); }

float ModelConfig::ple_embed_scale() const { return RoundTripBf16(std::sqrt(float(hidden_size_per_layer_input))); }

void ModelConfig::Finish(const std::string& source) {
  // Default layer pattern 5 sliding : 1 full; the last layer is always forced to full (HF).
  if (layer_types.empty()) {
    for (int i = 0; i < num_hidden_layers; ++i) {
      layer_types.push_back((i + 1) % 6 ? "sliding_attention" : "full_attention");
    }
  }
  if (!layer_types.empty()) layer_types.back() = "full_attention";

  // Full layers take num_global_key_value_heads only when k_eq_v is on and it is set (§1.2).
  const int full_kv =
      attention_k_eq_v && num_global_key_value_heads > 0 ? num_global_key_value_heads : num_key_value_heads;
  const int first_shared = first_kv_shared_layer();
  layers.assign(layer_types.size(), LayerInfo{});
  for (int l = 0; l < int(layers.size()); ++l) {
    LayerInfo& li = layers[size_t(l)];
    li.full = layer_types[size_t(l)] == "full_attention";
    li.head_dim = li.full ? global_head_dim : head_dim;
    li.n_kv_heads = li.full ? full_kv : num_key_value_heads;
    li.has_v = !(li.full && attention_k_eq_v);
    li.window = li.full ? 0 : sliding_window;
    li.rope_theta = li.full ? rope_theta_full : rope_theta_sliding;
    const float factor = li.full ? partial_rotary_factor_full : partial_rotary_factor_sliding;
    // HF "proportional": int(factor * head_dim // 2) pairs, exponent denominator = head_dim.
    li.rope_pairs = int(std::floor(double(factor) * li.head_dim / 2.0));
    const bool shared = l >= first_shared;
    li.kv_source_layer = l;
    if (shared) {
      // Source: the last non-shared layer of the same attention type (§2.6), not l - shared.
      // -1 when there is none; Validate reports it.
      li.kv_source_layer = -1;
      for (int s = std::min(first_shared, l) - 1; s >= 0; --s) {
        if (layers[size_t(s)].full == li.full) {
          li.kv_source_layer = s;
          break;
        }
      }
    }
    li.ffn_dim = intermediate_size * (use_double_wide_mlp && shared ? 2 : 1);
  }
  Validate(source);
}

void ModelConfig::Validate(const std::string& source) const {
  auto fail = [&](const std::string& what) { throw Error(source + ": " + what); };
  auto positive = [&](const char* name, int v) {
    if (v <= 0) fail(std::string(name) + " is " + std::to_string(v) + ", expected > 0");
  };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("intermediate_size", intermediate_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("num_key_value_heads", num_key_value_heads);
  positive("head_dim", head_dim);
  positive("global_head_dim", global_head_dim);
  positive("sliding_window", sliding_window);
  if (head_dim % 2 || global_head_dim % 2) fail("head_dim and global_head_dim must be even");
  if (num_global_key_value_heads < 0) fail("num_global_key_value_heads must be >= 0");
  if (num_kv_shared_layers < 0 || num_kv_shared_layers > num_hidden_layers) {
    fail("num_kv_shared_layers " + std::to_string(num_kv_shared_layers) + " is outside [0, " +
         std::to_string(num_hidden_layers) + "]");
  }
  if (has_ple()) positive("vocab_size_per_layer_input", vocab_size_per_layer_input);
  if (has_moe()) {
    positive("num_experts", num_experts);
    positive("top_k_experts", top_k_experts);
    positive("moe_intermediate_size", moe_intermediate_size);
    if (top_k_experts > num_experts) {
      fail("top_k_experts " + std::to_string(top_k_experts) + " exceeds num_experts " + std::to_string(num_experts));
    }
  }
  if (int(layer_types.size()) != num_hidden_layers) {
    fail("layer_types has " + std::to_string(layer_types.size()) + " entries, expected " +
         std::to_string(num_hidden_layers) + " (num_hidden_layers)");
  }
  for (size_t i = 0; i < layer_types.size(); ++i) {
    if (layer_types[i] != "sliding_attention" && layer_types[i] != "full_attention") {
      fail("layer_types[" + std::to_string(i) + "] is \"" + layer_types[i] +
           "\", expected sliding_attention or full_attention");
    }
  }
  if (layers.size() != layer_types.size()) fail("per-layer info not derived (call Finish)");
  for (int l = 0; l < int(layers.size()); ++l) {
    const LayerInfo& li = layers[size_t(l)];
    if (li.rope_pairs < 0 || li.rope_pairs > li.head_dim / 2) {
      fail("partial_rotary_factor gives " + std::to_string(li.rope_pairs) + " rotary pairs for head_dim " +
           std::to_string(li.head_dim));
    }
    if (li.n_kv_heads <= 0 || num_attention_heads % li.n_kv_heads) {
      fail("num_attention_heads " + std::to_string(num_attention_heads) + " is not divisible by the " +
           (li.full ? "full" : "sliding") + "-layer KV heads " + std::to_string(li.n_kv_heads));
    }
    if (li.kv_source_layer < 0) {
      fail("KV-shared layer " + std::to_string(l) + " (" + layer_types[size_t(l)] +
           ") has no earlier non-shared layer of the same type to read");
    }
  }
}

namespace {

// model_type, at the top or in text_config: gemma4 (and gemma4_text) or gemma4_unified, whose
// defaults differ.
void ReadModelType(const FieldReader& top, const FieldReader& text, bool nested, const std::string& source,
                   ModelConfig& c) {
  std::string mt = top.String("model_type", "");
  if (mt.empty() && nested) mt = text.String("model_type", "");
  if (mt.empty()) {
    throw Error(source + ": missing model_type (expected gemma4, gemma4_text or gemma4_unified)");
  }
  if (!FamilyOf(mt, &c.unified)) {
    throw Error(source + ": unknown model_type \"" + mt + "\" (expected gemma4, gemma4_text or gemma4_unified)");
  }
  c.model_type = c.unified ? "gemma4_unified" : "gemma4";
  if (c.unified) {
    // Gemma4UnifiedTextConfig defaults that differ; it declares no PLE or MoE fields at all.
    c.sliding_window = 1024;
    c.max_position_embeddings = 262144;
    c.hidden_size_per_layer_input = 0;
    c.vocab_size_per_layer_input = 0;
  }
}

// pad, bos and eos (eos may be a list: its first id).
void ReadTokenIds(const FieldReader& text, ModelConfig& c) {
  c.pad_token_id = text.Int("pad_token_id", c.pad_token_id);
  c.bos_token_id = text.Int("bos_token_id", c.bos_token_id);
  if (text.Has("eos_token_id") && text.Raw("eos_token_id").is_array()) {
    const json& ids = text.Raw("eos_token_id");
    if (ids.empty() || !ids[0].is_number_integer()) {
      text.Fail("eos_token_id", ids, "an integer or a list of integers");
    }
    c.eos_token_id = ids[0].get<int>();
  } else {
    c.eos_token_id = text.Int("eos_token_id", c.eos_token_id);
  }
}

// Features our kernels do not implement: refuse rather than compute something else.
void RefuseUnsupported(const FieldReader& text, const std::string& source) {
  const std::string act = text.String("hidden_activation", "gelu_pytorch_tanh");
  if (act != "gelu_pytorch_tanh") {
    throw Error(source + ": " + text.Path("hidden_activation") + " \"" + act +
                "\" is not supported (expected gelu_pytorch_tanh)");
  }
  if (text.Bool("attention_bias", false)) {
    throw Error(source + ": " + text.Path("attention_bias") + " true is not supported");
  }
  if (text.String("use_bidirectional_attention", "") == "all") {
    throw Error(source + ": " + text.Path("use_bidirectional_attention") +
                " \"all\" is not supported (only null or \"vision\")");
  }
}

void ReadLayerTypes(const FieldReader& text, ModelConfig& c) {
  if (text.Has("layer_types")) {
    const json& lt = text.Raw("layer_types");
    if (!lt.is_array()) text.Fail("layer_types", lt, "a list of strings");
    for (const json& t : lt) {
      if (!t.is_string()) text.Fail("layer_types", lt, "a list of strings");
      c.layer_types.push_back(t.get<std::string>());
    }
  }
}

}  // namespace

ModelConfig ParseConfig(const json& doc, const std::string& source) {
  if (!doc.is_object()) throw Error(source + ": expected a JSON object at the top level");
  const bool nested = doc.contains("text_config");
  static const json kEmpty = json::object();
  const json& text_obj = nested && !doc.at("text_config").is_null() ? doc.at("text_config") : kEmpty;
  if (!text_obj.is_object()) {
    throw Error(source + ": text_config is " + text_obj.dump() + ", expected an object");
  }
  FieldReader top(doc, source, "");
  FieldReader text(text_obj.empty() && !nested ? doc : text_obj, source, nested ? "text_config." : "");

  ModelConfig c;
  ReadModelType(top, text, nested, source, c);

  c.vocab_size = text.Int("vocab_size", c.vocab_size);
  c.hidden_size = text.Int("hidden_size", c.hidden_size);
  c.intermediate_size = text.Int("intermediate_size", c.intermediate_size);
  c.num_hidden_layers = text.Int("num_hidden_layers", c.num_hidden_layers);
  c.num_attention_heads = text.Int("num_attention_heads", c.num_attention_heads);
  c.num_key_value_heads = text.Int("num_key_value_heads", c.num_key_value_heads);
  c.num_global_key_value_heads = text.Int("num_global_key_value_heads", 0);
  c.head_dim = text.Int("head_dim", c.head_dim);
  c.global_head_dim = text.Int("global_head_dim", c.global_head_dim);
  c.sliding_window = text.Int("sliding_window", c.sliding_window);
  c.max_position_embeddings = text.Int("max_position_embeddings", c.max_position_embeddings);
  c.rms_norm_eps = text.Float("rms_norm_eps", c.rms_norm_eps);
  c.final_logit_softcapping = text.Float("final_logit_softcapping", 0.f);
  c.tie_word_embeddings = text.Bool("tie_word_embeddings", top.Bool("tie_word_embeddings", c.tie_word_embeddings));
  c.attention_k_eq_v = text.Bool("attention_k_eq_v", false);
  c.num_kv_shared_layers = text.Int("num_kv_shared_layers", 0);
  c.use_double_wide_mlp = text.Bool("use_double_wide_mlp", false);
  if (!c.unified) {
    c.hidden_size_per_layer_input = text.Int("hidden_size_per_layer_input", c.hidden_size_per_layer_input);
    c.vocab_size_per_layer_input = text.Int("vocab_size_per_layer_input", c.vocab_size_per_layer_input);
    c.enable_moe_block = text.Bool("enable_moe_block", false);
    c.num_experts = text.Int("num_experts", 0);
    c.top_k_experts = text.Int("top_k_experts", 0);
    c.moe_intermediate_size = text.Int("moe_intermediate_size", 0);
  }
  ReadTokenIds(text, c);

  RefuseUnsupported(text, source);

  ReadLayerTypes(text, c);
  ReadRope(text, source, "sliding_attention", "default", &c.rope_theta_sliding, &c.partial_rotary_factor_sliding);
  ReadRope(text, source, "full_attention", "proportional", &c.rope_theta_full, &c.partial_rotary_factor_full);

  c.mm = ParseMultimodalConfig(doc, source);
  if (c.mm.has_vision && (c.mm.image_token_id >= c.vocab_size)) {
    throw Error(source + ": image_token_id " + std::to_string(c.mm.image_token_id) + " is outside the vocabulary of " +
                std::to_string(c.vocab_size));
  }
  if (c.mm.has_audio && (c.mm.audio_token_id >= c.vocab_size)) {
    throw Error(source + ": audio_token_id " + std::to_string(c.mm.audio_token_id) + " is outside the vocabulary of " +
                std::to_string(c.vocab_size));
  }
  c.Finish(source);
  return c;
}

ModelConfig LoadConfig(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open (file missing or unreadable)");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string name = path.filename().string();
  json doc;
  try {
    doc = json::parse(ss.str());
  } catch (const json::parse_error& e) {
    throw Error(name + ": malformed JSON (parse error at byte " + std::to_string(e.byte) + ")");
  }
  return ParseConfig(doc, name);
}

}  // namespace vkg
