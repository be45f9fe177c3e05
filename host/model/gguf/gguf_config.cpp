// Gemma 4 GGUF metadata -> ModelConfig (layer: host/model). The mapping table is in gguf_config.h.
#include "host/model/gguf/gguf_config.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>

#include "host/error.h"
#include "host/model/gguf/gguf_file.h"
#include "host/model/gguf/gguf_names.h"

namespace vkg {
namespace {

// Reads "gemma4.<key>" values of one file, naming the file in every error.
class Keys {
 public:
  explicit Keys(const GgufFile& f) : f_(f) {}
  std::string Name(const std::string& key) const { return std::string(kGgufArchitecture) + "." + key; }
  bool Has(const std::string& key) const { return f_.Find(Name(key)) != nullptr; }
  int Int(const std::string& key) const { return Checked(f_.GetInt(Name(key)), key); }
  int Int(const std::string& key, int fallback) const { return Has(key) ? Int(key) : fallback; }
  float Float(const std::string& key) const { return float(f_.GetFloat(Name(key))); }
  // An integer or an integer array of n elements (llama.cpp's get_key_or_arr), one per layer.
  std::vector<int> PerLayer(const std::string& key, int n) const {
    const GgufValue* v = f_.Find(Name(key));
    if (!v) Fail(key, "is missing");
    if (v->type != GgufType::kArray) return std::vector<int>(size_t(n), Int(key));
    if (v->ints.size() != size_t(n) || v->elem == GgufType::kBool) {
      Fail(key, "must be an integer or " + std::to_string(n) + " integers (one per layer)");
    }
    std::vector<int> out;
    for (int64_t x : v->ints) out.push_back(Checked(x, key));
    return out;
  }
  std::vector<bool> Bools(const std::string& key, int n) const {
    const GgufValue* v = f_.Find(Name(key));
    if (!v) Fail(key, "is missing");
    if (v->type != GgufType::kArray || v->elem != GgufType::kBool || v->ints.size() != size_t(n)) {
      Fail(key, "must be an array of " + std::to_string(n) + " bools (one per layer)");
    }
    std::vector<bool> out;
    for (int64_t x : v->ints) out.push_back(x != 0);
    return out;
  }
  [[noreturn]] void Fail(const std::string& key, const std::string& what) const {
    throw Error(f_.name() + ": metadata '" + Name(key) + "' " + what);
  }

 private:
  int Checked(int64_t v, const std::string& key) const {
    if (v < 0 || v > (int64_t(1) << 31) - 1) Fail(key, "is " + std::to_string(v) + ", out of range");
    return int(v);
  }
  const GgufFile& f_;
};

// Rows (outermost dimension) of a 2-D tensor, or -1 when it is absent.
int64_t Rows(const GgufModel& m, const std::string& name) {
  const GgufTensor* t = m.FindTensor(name);
  return t && t->ne.size() == 2 ? int64_t(t->ne[1]) : -1;
}

// The partial_rotary_factor that gives exactly `pairs` rotated pairs of a head_dim D under
// ModelConfig::Finish's floor(factor * D / 2): 2 * pairs / D, nudged up past float rounding.
float RotaryFactor(int pairs, int D) {
  float f = float(2.0 * pairs / D);
  while (int(std::floor(double(f) * D / 2.0)) < pairs) f = std::nextafter(f, 2.f);
  return f;
}

// Query and KV head counts and head dims (sliding layers' and full layers'): one query head count
// for every layer, KV heads per layer type, values as long as keys.
void ReadAttentionHeads(const Keys& k, const std::vector<bool>& sliding, ModelConfig& c) {
  const int L = c.num_hidden_layers;
  auto first_of = [&](bool want_sliding) {
    for (int l = 0; l < L; ++l) {
      if (sliding[size_t(l)] == want_sliding) return l;
    }
    return -1;
  };
  const int a_sliding = first_of(true), a_full = first_of(false);

  const std::vector<int> heads = k.PerLayer("attention.head_count", L);
  if (std::adjacent_find(heads.begin(), heads.end(), std::not_equal_to<>()) != heads.end()) {
    k.Fail("attention.head_count", "differs between layers (Gemma 4 has one query head count)");
  }
  c.num_attention_heads = heads[0];
  const std::vector<int> kv = k.PerLayer("attention.head_count_kv", L);
  c.num_key_value_heads = kv[size_t(a_sliding >= 0 ? a_sliding : 0)];
  if (a_full >= 0 && kv[size_t(a_full)] != c.num_key_value_heads) c.num_global_key_value_heads = kv[size_t(a_full)];

  c.global_head_dim = k.Int("attention.key_length");
  c.head_dim = k.Int("attention.key_length_swa");
  if (k.Int("attention.value_length", c.global_head_dim) != c.global_head_dim) {
    k.Fail("attention.value_length", "differs from attention.key_length (Gemma 4 needs them equal)");
  }
  if (k.Int("attention.value_length_swa", c.head_dim) != c.head_dim) {
    k.Fail("attention.value_length_swa", "differs from attention.key_length_swa (Gemma 4 needs them equal)");
  }
}

// The MLP width: one for every layer, except KV-shared layers, which may have it doubled.
void ReadFeedForward(const Keys& k, ModelConfig& c) {
  const int L = c.num_hidden_layers;
  const std::vector<int> ffn = k.PerLayer("feed_forward_length", L);
  c.intermediate_size = ffn[0];
  const int first_shared = L - c.num_kv_shared_layers;
  for (int l = 0; l < L; ++l) {
    const bool doubled = l >= first_shared && ffn[size_t(l)] == 2 * c.intermediate_size;
    if (doubled) c.use_double_wide_mlp = true;
    if (ffn[size_t(l)] != c.intermediate_size && !doubled) {
      k.Fail("feed_forward_length", "[" + std::to_string(l) + "] is " + std::to_string(ffn[size_t(l)]) +
                                        ": only KV-shared layers may differ, and only by 2x");
    }
  }
}

// RoPE bases and rotated fractions (full layers': from rope_freqs.weight when the file has it).
void ReadRope(const GgufModel& model, const Keys& k, ModelConfig& c) {
  c.rope_theta_full = k.Float("rope.freq_base");
  c.rope_theta_sliding = k.Has("rope.freq_base_swa") ? k.Float("rope.freq_base_swa") : c.rope_theta_full;
  if (c.head_dim > 0) {
    c.partial_rotary_factor_sliding = RotaryFactor(k.Int("rope.dimension_count_swa", c.head_dim) / 2, c.head_dim);
  }
  c.partial_rotary_factor_full = 0.25f;
  if (const GgufTensor* rf = model.FindTensor("rope_freqs.weight")) {
    if (rf->type != GgmlType::F32 || rf->ne.size() != 1 || int64_t(rf->ne[0]) * 2 != c.global_head_dim) {
      throw Error(model.first().name() + ": tensor rope_freqs.weight must be F32 [" +
                  std::to_string(c.global_head_dim / 2) + "]");
    }
    int rotated = 0;
    for (uint64_t i = 0; i < rf->ne[0]; ++i) {
      float v;
      std::memcpy(&v, rf->data + 4 * i, 4);
      if (v == 1.f) ++rotated;
    }
    c.partial_rotary_factor_full = RotaryFactor(rotated, c.global_head_dim);
  }
}

}  // namespace

ModelConfig GgufModelConfig(const GgufModel& model) {
  const GgufFile& f = model.first();
  const std::string arch = f.GetString("general.architecture");
  if (arch != kGgufArchitecture) {
    throw Error(f.name() + ": architecture \"" + arch + "\" is not supported (expected gemma4)");
  }
  const Keys k(f);
  ModelConfig c;
  c.model_type = "gemma4";
  c.num_hidden_layers = k.Int("block_count");
  const int L = c.num_hidden_layers;
  if (L <= 0 || L > 4096) k.Fail("block_count", "is " + std::to_string(L) + ", expected 1..4096");
  c.hidden_size = k.Int("embedding_length");
  c.max_position_embeddings = k.Int("context_length", c.max_position_embeddings);
  c.rms_norm_eps = k.Float("attention.layer_norm_rms_epsilon");
  c.sliding_window = k.Int("attention.sliding_window");
  c.num_kv_shared_layers = k.Int("attention.shared_kv_layers", 0);

  const std::vector<bool> sliding = k.Bools("attention.sliding_window_pattern", L);
  for (bool s : sliding) c.layer_types.push_back(s ? "sliding_attention" : "full_attention");
  ReadAttentionHeads(k, sliding, c);
  ReadFeedForward(k, c);
  ReadRope(model, k, c);

  c.hidden_size_per_layer_input = k.Int("embedding_length_per_layer_input", 0);
  c.vocab_size_per_layer_input = 0;
  if (c.hidden_size_per_layer_input > 0) {
    c.vocab_size_per_layer_input = int(Rows(model, "per_layer_token_embd.weight"));
  }
  c.num_experts = k.Int("expert_count", 0);
  c.enable_moe_block = c.num_experts > 0;
  if (c.enable_moe_block) {
    c.top_k_experts = k.Int("expert_used_count");
    c.moe_intermediate_size = k.Int("expert_feed_forward_length");
  }
  c.final_logit_softcapping = k.Has("final_logit_softcapping") ? k.Float("final_logit_softcapping") : 0.f;

  const int64_t vocab = Rows(model, "token_embd.weight");
  if (vocab <= 0) throw Error(f.name() + ": missing tensor token_embd.weight (a 2-D table)");
  c.vocab_size = int(vocab);
  c.tie_word_embeddings = model.FindTensor("output.weight") == nullptr;
  const int first_shared = L - c.num_kv_shared_layers;
  for (int l = 0; l < std::min(L, first_shared); ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    if (!sliding[size_t(l)] && model.FindTensor(p + "attn_k.weight") && !model.FindTensor(p + "attn_v.weight")) {
      c.attention_k_eq_v = true;
    }
  }
  auto token_id = [&](const char* key, int fallback) { return f.Find(key) ? int(f.GetInt(key)) : fallback; };
  c.bos_token_id = token_id("tokenizer.ggml.bos_token_id", c.bos_token_id);
  c.eos_token_id = token_id("tokenizer.ggml.eos_token_id", c.eos_token_id);
  c.pad_token_id = token_id("tokenizer.ggml.padding_token_id", c.pad_token_id);

  c.Finish(f.name());
  return c;
}

}  // namespace vkg
