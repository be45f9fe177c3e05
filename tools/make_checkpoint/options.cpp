// Variant defaults and config.json layout for vkg_make_checkpoint (layer: tools/make_checkpoint).
// Field names and order follow the released Gemma 4 config.json (docs/model.md §1.2).
#include "tools/make_checkpoint/options.h"

#include "host/error.h"

#include <nlohmann/json.hpp>

namespace vkg::mkckpt {

using nlohmann::ordered_json;

namespace {

// config.json's "dtype" (transformers' torch dtype names).
const char* TorchDTypeName(DType t) { return t == DType::F32 ? "float32" : t == DType::F16 ? "float16" : "bfloat16"; }

}  // namespace

DType TensorDType(const Options& o, const std::string& name) {
  DType t = o.dtype;
  for (const auto& [part, dtype] : o.dtype_overrides) {
    if (name.find(part) != std::string::npos) t = dtype;
  }
  return t;
}

void ApplyVariantDefaults(Options* o) {
  auto set = [](int* v, int d) {
    if (*v < 0) *v = d;
  };
  const std::string& v = o->variant;
  if (v == "dense" || v == "moe" || v == "unified") {
    // 31B / 26B-A4B / 12B: 5 sliding : 1 full, K = V on full layers with fewer KV heads.
    set(&o->layers, 6);
    set(&o->kv_heads, 2);
    set(&o->global_kv_heads, 1);
    set(&o->full_every, 6);
    set(&o->kv_shared, 0);
  } else if (v == "ple") {
    // E2B: 4 sliding : 1 full, PLE, KV sharing in the last layers, double-wide MLP there.
    set(&o->layers, 10);
    set(&o->kv_heads, 1);
    set(&o->global_kv_heads, 0);
    set(&o->full_every, 5);
    set(&o->kv_shared, 5);
  } else if (v == "e4b") {
    set(&o->layers, 12);
    set(&o->kv_heads, 2);
    set(&o->global_kv_heads, 0);
    set(&o->full_every, 6);
    set(&o->kv_shared, 5);
  } else {
    throw Error("unknown variant \"" + v + "\" (expected dense, ple, e4b, moe or unified)");
  }
}

ordered_json MakeConfigJson(const Options& o) {
  const bool unified = o.variant == "unified";
  const bool k_eq_v = o.variant == "dense" || o.variant == "moe" || unified;
  const bool ple = o.variant == "ple" || o.variant == "e4b";
  const bool moe = o.variant == "moe";

  ordered_json t;
  t["vocab_size"] = o.vocab;
  t["hidden_size"] = o.hidden;
  t["intermediate_size"] = o.intermediate;
  t["num_hidden_layers"] = o.layers;
  t["num_attention_heads"] = o.heads;
  t["head_dim"] = o.head_dim;
  t["global_head_dim"] = o.global_head_dim;
  t["hidden_activation"] = "gelu_pytorch_tanh";
  t["max_position_embeddings"] = o.max_pos;
  t["rms_norm_eps"] = 1e-6;
  t["pad_token_id"] = 0;
  t["eos_token_id"] = 1;
  t["bos_token_id"] = 2;
  t["tie_word_embeddings"] = !o.untied;
  t["rope_parameters"] = {
      {"full_attention", {{"rope_type", "proportional"}, {"partial_rotary_factor", 0.25}, {"rope_theta", 1000000.0}}},
      {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 10000.0}}}};
  t["attention_bias"] = false;
  t["attention_dropout"] = 0.0;
  t["sliding_window"] = o.window;
  t["final_logit_softcapping"] = o.softcap > 0 ? ordered_json(double(o.softcap)) : ordered_json(nullptr);
  t["initializer_range"] = 0.02;
  t["use_cache"] = true;
  t["model_type"] = unified ? "gemma4_unified_text" : "gemma4_text";
  t["num_key_value_heads"] = o.kv_heads;
  t["num_global_key_value_heads"] = o.global_kv_heads > 0 ? ordered_json(o.global_kv_heads) : ordered_json(nullptr);
  t["attention_k_eq_v"] = k_eq_v;
  t["use_bidirectional_attention"] = k_eq_v ? ordered_json("vision") : ordered_json(nullptr);
  if (!unified) {  // Gemma4UnifiedTextConfig declares no PLE or MoE fields
    t["hidden_size_per_layer_input"] = ple ? o.ple_dim : 0;
    t["vocab_size_per_layer_input"] = o.vocab;
  }
  t["num_kv_shared_layers"] = o.kv_shared;
  if (!unified) {
    t["enable_moe_block"] = moe;
    t["num_experts"] = moe ? ordered_json(o.experts) : ordered_json(nullptr);
    t["top_k_experts"] = moe ? ordered_json(o.top_k) : ordered_json(nullptr);
    t["moe_intermediate_size"] = moe ? ordered_json(o.moe_intermediate) : ordered_json(nullptr);
  }
  t["use_double_wide_mlp"] = o.variant == "ple";
  ordered_json types = ordered_json::array();
  for (int i = 0; i < o.layers; ++i) {
    const bool full = (i + 1) % o.full_every == 0 || i == o.layers - 1;  // last layer always full
    types.push_back(full ? "full_attention" : "sliding_attention");
  }
  t["layer_types"] = types;
  t["dtype"] = TorchDTypeName(o.dtype);

  if (o.text_only) {
    t["architectures"] = ordered_json::array({unified ? "Gemma4UnifiedForCausalLM" : "Gemma4ForCausalLM"});
    return t;
  }
  ordered_json c;
  c["architectures"] =
      ordered_json::array({unified ? "Gemma4UnifiedForConditionalGeneration" : "Gemma4ForConditionalGeneration"});
  c["model_type"] = unified ? "gemma4_unified" : "gemma4";
  c["text_config"] = t;
  c["vision_config"] = nullptr;
  c["audio_config"] = nullptr;
  c["tie_word_embeddings"] = !o.untied;
  c["dtype"] = TorchDTypeName(o.dtype);
  c["boi_token_id"] = 255999;
  c["eoi_token_id"] = 258882;
  c["image_token_id"] = 258880;
  c["video_token_id"] = 258884;
  c["boa_token_id"] = 256000;
  c["eoa_token_index"] = 258883;
  c["audio_token_id"] = 258881;
  c["initializer_range"] = 0.02;
  return c;
}

}  // namespace vkg::mkckpt
