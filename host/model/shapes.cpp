// Built-in Gemma 4 checkpoint configs (layer: host/model). Every value is from
// docs/model.md §1.2; fields the table leaves to the HF defaults keep ModelConfig's
// defaults (head_dim 256, global_head_dim 512, eps 1e-6, rope θ 1e4 / 1e6 with 0.25 partial
// rotation on full layers, tied embeddings, vocabulary 262144).
#include "host/model/shapes.h"

#include <algorithm>
#include <cctype>

#include "host/error.h"

namespace vkg {
namespace {

// `period` layers per block, the last of each block full attention (E2B: 4 sliding + 1 full).
std::vector<std::string> Pattern(int layers, int period) {
  std::vector<std::string> t;
  for (int i = 0; i < layers; ++i) t.push_back((i + 1) % period ? "sliding_attention" : "full_attention");
  return t;
}

ModelConfig Base(bool unified) {
  ModelConfig c;
  c.model_type = unified ? "gemma4_unified" : "gemma4";
  c.unified = unified;
  c.vocab_size = 262144;
  c.head_dim = 256;
  c.global_head_dim = 512;
  c.rms_norm_eps = 1e-6f;
  c.final_logit_softcapping = 30.f;
  c.tie_word_embeddings = true;
  c.rope_theta_sliding = 10000.f;
  c.partial_rotary_factor_sliding = 1.f;
  c.rope_theta_full = 1000000.f;
  c.partial_rotary_factor_full = 0.25f;
  c.pad_token_id = 0;
  c.eos_token_id = 1;
  c.bos_token_id = 2;
  // No PLE / MoE / KV sharing unless a variant says so.
  c.hidden_size_per_layer_input = 0;
  c.vocab_size_per_layer_input = unified ? 0 : 262144;
  c.num_kv_shared_layers = 0;
  c.use_double_wide_mlp = false;
  c.enable_moe_block = false;
  c.num_global_key_value_heads = 0;
  c.attention_k_eq_v = false;
  return c;
}

ModelConfig E2B() {
  ModelConfig c = Base(false);
  c.hidden_size = 1536;
  c.num_hidden_layers = 35;
  c.intermediate_size = 6144;  // 12288 on the 20 KV-shared layers (double-wide)
  c.use_double_wide_mlp = true;
  c.num_attention_heads = 8;
  c.num_key_value_heads = 1;
  c.sliding_window = 512;
  c.max_position_embeddings = 131072;
  c.hidden_size_per_layer_input = 256;
  c.num_kv_shared_layers = 20;
  c.layer_types = Pattern(35, 5);  // full at 4, 9, ..., 34
  return c;
}

ModelConfig E4B() {
  ModelConfig c = Base(false);
  c.hidden_size = 2560;
  c.num_hidden_layers = 42;
  c.intermediate_size = 10240;
  c.num_attention_heads = 8;
  c.num_key_value_heads = 2;
  c.sliding_window = 512;
  c.max_position_embeddings = 131072;
  c.hidden_size_per_layer_input = 256;
  c.num_kv_shared_layers = 18;
  c.layer_types = Pattern(42, 6);  // full at 5, 11, ..., 41
  return c;
}

ModelConfig G12B() {
  ModelConfig c = Base(true);
  c.hidden_size = 3840;
  c.num_hidden_layers = 48;
  c.intermediate_size = 15360;
  c.num_attention_heads = 16;
  c.num_key_value_heads = 8;
  c.num_global_key_value_heads = 1;
  c.attention_k_eq_v = true;
  c.sliding_window = 1024;
  c.max_position_embeddings = 262144;
  c.layer_types = Pattern(48, 6);
  return c;
}

ModelConfig G26B() {
  ModelConfig c = Base(false);
  c.hidden_size = 2816;
  c.num_hidden_layers = 30;
  c.intermediate_size = 2112;  // the always-on dense MLP beside the experts
  c.num_attention_heads = 16;
  c.num_key_value_heads = 8;
  c.num_global_key_value_heads = 2;
  c.attention_k_eq_v = true;
  c.sliding_window = 1024;
  c.max_position_embeddings = 262144;
  c.enable_moe_block = true;
  c.num_experts = 128;
  c.top_k_experts = 8;
  c.moe_intermediate_size = 704;
  c.layer_types = Pattern(30, 6);
  return c;
}

ModelConfig G31B() {
  ModelConfig c = Base(false);
  c.hidden_size = 5376;
  c.num_hidden_layers = 60;
  c.intermediate_size = 21504;
  c.num_attention_heads = 32;
  c.num_key_value_heads = 16;
  c.num_global_key_value_heads = 4;
  c.attention_k_eq_v = true;
  c.sliding_window = 1024;
  c.max_position_embeddings = 262144;
  c.layer_types = Pattern(60, 6);
  return c;
}

}  // namespace

const std::vector<std::string>& ShapeNames() {
  static const std::vector<std::string> names = {"e2b", "e4b", "12b", "26b-a4b", "31b"};
  return names;
}

ModelConfig ShapeConfig(std::string_view name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
  ModelConfig c;
  if (n == "e2b")
    c = E2B();
  else if (n == "e4b")
    c = E4B();
  else if (n == "12b")
    c = G12B();
  else if (n == "26b-a4b")
    c = G26B();
  else if (n == "31b")
    c = G31B();
  else {
    std::string valid;
    for (const std::string& s : ShapeNames()) valid += (valid.empty() ? "" : ", ") + s;
    throw Error("unknown shape '" + std::string(name) + "' (valid: " + valid + ")");
  }
  c.Finish("shape " + n);
  return c;
}

}  // namespace vkg
