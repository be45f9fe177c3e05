// config.json parsing: nested and flat layouts, HF defaults per model type, derived per-layer
// info (docs/model.md §1.2, §2.4-§2.7) and the exact error texts.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "host/model/config.h"
#include "tests/model/test_helpers.h"

namespace vkg {
namespace {

using nlohmann::json;

TEST(ConfigTest, ParsesNestedFixtureConfigDense) {
  const ModelConfig c = LoadConfig(test::FixtureDir("dense") / "config.json");
  EXPECT_EQ(c.model_type, "gemma4");
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.num_hidden_layers, 6);
  EXPECT_FALSE(c.has_ple());  // hidden_size_per_layer_input: 0
  EXPECT_FALSE(c.has_moe());
  EXPECT_FLOAT_EQ(c.final_logit_softcapping, 30.f);
  EXPECT_FLOAT_EQ(c.embed_scale(), 8.f);
  ASSERT_EQ(c.layers.size(), 6u);
  const LayerInfo& s = c.layers[0];
  EXPECT_FALSE(s.full);
  EXPECT_EQ(s.head_dim, 16);
  EXPECT_EQ(s.n_kv_heads, 2);
  EXPECT_TRUE(s.has_v);
  EXPECT_EQ(s.window, 8);
  EXPECT_EQ(s.rope_pairs, 8);  // the whole head rotates on sliding layers
  EXPECT_FLOAT_EQ(s.rope_theta, 10000.f);
  const LayerInfo& f = c.layers[5];
  EXPECT_TRUE(f.full);
  EXPECT_EQ(f.head_dim, 32);
  EXPECT_EQ(f.n_kv_heads, 1);  // k_eq_v + num_global_key_value_heads
  EXPECT_FALSE(f.has_v);
  EXPECT_EQ(f.window, 0);
  EXPECT_EQ(f.rope_pairs, 4);  // int(0.25 * 32 // 2)
  EXPECT_FLOAT_EQ(f.rope_theta, 1e6f);
  for (int l = 0; l < 6; ++l) EXPECT_EQ(c.layers[size_t(l)].kv_source_layer, l);
}

TEST(ConfigTest, PleFixtureKvSharingAndDoubleWide) {
  const ModelConfig c = LoadConfig(test::FixtureDir("ple") / "config.json");
  EXPECT_TRUE(c.has_ple());
  EXPECT_EQ(c.first_kv_shared_layer(), 5);
  // Layers 5..9 share: sliding ones read layer 3, the full one (9) reads layer 4 - the LAST
  // non-shared layer of the same type, not layer - num_kv_shared_layers.
  const int expected_src[10] = {0, 1, 2, 3, 4, 3, 3, 3, 3, 4};
  for (int l = 0; l < 10; ++l) {
    EXPECT_EQ(c.layers[size_t(l)].kv_source_layer, expected_src[l]) << "layer " << l;
    EXPECT_EQ(c.layers[size_t(l)].ffn_dim, l >= 5 ? 512 : 256) << "layer " << l;
    EXPECT_TRUE(c.layers[size_t(l)].has_v);
    EXPECT_EQ(c.layers[size_t(l)].n_kv_heads, 1);
  }
}

TEST(ConfigTest, E4bFixtureIgnoresGlobalKvHeadsWithoutKeqV) {
  json doc = json::parse(test::ReadFile(test::FixtureDir("e4b") / "config.json"));
  doc["text_config"]["num_global_key_value_heads"] = 1;  // ignored: attention_k_eq_v is false
  const ModelConfig c = ParseConfig(doc);
  EXPECT_EQ(c.layers[5].n_kv_heads, 2);
  EXPECT_EQ(c.layers[7].kv_source_layer, 6);
  EXPECT_EQ(c.layers[11].kv_source_layer, 5);
  EXPECT_EQ(c.layers[11].ffn_dim, 256);  // no double-wide on E4B
}

TEST(ConfigTest, FlatTextOnlyEqualsNested) {
  const json nested = json::parse(test::ReadFile(test::FixtureDir("moe") / "config.json"));
  const json flat = nested["text_config"];  // model_type gemma4_text, no nesting
  const ModelConfig a = ParseConfig(nested), b = ParseConfig(flat);
  EXPECT_EQ(a.model_type, b.model_type);
  EXPECT_EQ(b.num_experts, 8);
  EXPECT_EQ(b.top_k_experts, 2);
  EXPECT_EQ(b.moe_intermediate_size, 32);
  EXPECT_TRUE(b.has_moe());
  EXPECT_EQ(a.layer_types, b.layer_types);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t l = 0; l < a.layers.size(); ++l) {
    EXPECT_EQ(a.layers[l].head_dim, b.layers[l].head_dim);
    EXPECT_EQ(a.layers[l].n_kv_heads, b.layers[l].n_kv_heads);
  }
}

TEST(ConfigTest, Gemma4DefaultsWhenFieldsMissing) {
  const ModelConfig c = ParseConfig(json{{"model_type", "gemma4"}, {"text_config", json::object()}});
  EXPECT_EQ(c.vocab_size, 262144);
  EXPECT_EQ(c.hidden_size, 2304);
  EXPECT_EQ(c.intermediate_size, 9216);
  EXPECT_EQ(c.num_hidden_layers, 30);
  EXPECT_EQ(c.num_attention_heads, 8);
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.head_dim, 256);
  EXPECT_EQ(c.global_head_dim, 512);
  EXPECT_EQ(c.sliding_window, 512);
  EXPECT_EQ(c.max_position_embeddings, 131072);
  EXPECT_FLOAT_EQ(c.rms_norm_eps, 1e-6f);
  EXPECT_EQ(c.final_logit_softcapping, 0.f);  // null = no cap
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_TRUE(c.has_ple());  // gemma4: PLE dim 256 by default
  EXPECT_EQ(c.hidden_size_per_layer_input, 256);
  EXPECT_EQ(c.vocab_size_per_layer_input, 262144);
  EXPECT_FALSE(c.has_moe());
  EXPECT_FALSE(c.attention_k_eq_v);
  EXPECT_EQ(c.first_kv_shared_layer(), 30);
  // 5:1 pattern: layer i full iff (i+1) % 6 == 0, and the last layer (29) is full anyway.
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(c.layers[size_t(i)].full, (i + 1) % 6 == 0) << "layer " << i;
  }
  EXPECT_EQ(c.layers[5].head_dim, 512);
  EXPECT_EQ(c.layers[5].n_kv_heads, 4);
  EXPECT_EQ(c.layers[5].rope_pairs, 64);  // int(0.25 * 512 // 2)
  EXPECT_FLOAT_EQ(c.layers[5].rope_theta, 1e6f);
  EXPECT_EQ(c.layers[0].rope_pairs, 128);
  EXPECT_FLOAT_EQ(c.layers[0].rope_theta, 1e4f);
  EXPECT_FLOAT_EQ(c.embed_scale(), 48.f);  // bf16(sqrt(2304)) = 48 exactly
}

TEST(ConfigTest, UnifiedHasNoPleOrMoeAndOwnDefaults) {
  // The converter writes PLE/MoE fields for BC; Gemma4UnifiedTextConfig does not declare them.
  const json doc = {
      {"model_type", "gemma4_unified"},
      {"text_config", {{"hidden_size_per_layer_input", 256}, {"enable_moe_block", true}, {"num_experts", 4}}}};
  const ModelConfig c = ParseConfig(doc);
  EXPECT_EQ(c.model_type, "gemma4_unified");
  EXPECT_FALSE(c.has_ple());
  EXPECT_FALSE(c.has_moe());
  EXPECT_EQ(c.sliding_window, 1024);
  EXPECT_EQ(c.max_position_embeddings, 262144);
  const ModelConfig empty = ParseConfig(json{{"model_type", "gemma4_unified"}});
  EXPECT_FALSE(empty.has_ple());
}

TEST(ConfigTest, LastLayerForcedFullAndKvHeadOverride) {
  const json doc = {{"model_type", "gemma4_text"},
                    {"num_hidden_layers", 4},
                    {"num_attention_heads", 8},
                    {"num_key_value_heads", 4},
                    {"num_global_key_value_heads", 2},
                    {"attention_k_eq_v", true},
                    {"layer_types", {"sliding_attention", "full_attention", "sliding_attention", "sliding_attention"}}};
  const ModelConfig c = ParseConfig(doc);
  EXPECT_EQ(c.layer_types.back(), "full_attention");
  EXPECT_TRUE(c.layers[3].full);
  EXPECT_EQ(c.layers[1].n_kv_heads, 2);
  EXPECT_EQ(c.layers[0].n_kv_heads, 4);
  EXPECT_FALSE(c.layers[1].has_v);
  EXPECT_TRUE(c.layers[0].has_v);
}

TEST(ConfigTest, RopeParametersAndEmbedScaleRounding) {
  json doc = {
      {"model_type", "gemma4_text"},
      {"hidden_size", 5376},
      {"num_hidden_layers", 6},
      {"rope_parameters",
       {{"full_attention", {{"rope_type", "proportional"}, {"partial_rotary_factor", 0.5}, {"rope_theta", 5e5}}},
        {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 2e4}}}}}};
  const ModelConfig c = ParseConfig(doc);
  EXPECT_EQ(c.layers[5].rope_pairs, 128);
  EXPECT_FLOAT_EQ(c.layers[5].rope_theta, 5e5f);
  EXPECT_FLOAT_EQ(c.layers[0].rope_theta, 2e4f);
  EXPECT_FLOAT_EQ(c.embed_scale(), 73.5f);  // 31B: bf16(73.32) (docs/model.md §2.2)
  doc["rope_parameters"]["full_attention"]["rope_type"] = "yarn";
  EXPECT_EQ(test::ErrorOf([&] { ParseConfig(doc); }),
            "config.json: rope_parameters.full_attention.rope_type \"yarn\" is not supported "
            "(expected default or proportional)");
}

TEST(ConfigTest, UnknownModelTypeError) {
  EXPECT_EQ(test::ErrorOf([] {
              ParseConfig(json{{"model_type", "llama"}});
            }),
            "config.json: unknown model_type \"llama\" (expected gemma4, gemma4_text or gemma4_unified)");
  EXPECT_EQ(test::ErrorOf([] {
              ParseConfig(json{{"text_config", json::object()}});
            }),
            "config.json: missing model_type (expected gemma4, gemma4_text or gemma4_unified)");
}

TEST(ConfigTest, ValidationErrors) {
  EXPECT_EQ(test::ErrorOf([] {
              ParseConfig(json{{"model_type", "gemma4_text"}, {"num_attention_heads", 6}});
            }),
            "config.json: num_attention_heads 6 is not divisible by the sliding-layer KV heads 4");
  EXPECT_EQ(test::ErrorOf([] {
              ParseConfig(json{{"model_type", "gemma4"}, {"text_config", {{"hidden_size", "big"}}}});
            }),
            "config.json: text_config.hidden_size is \"big\", expected an integer");
  EXPECT_EQ(test::ErrorOf([] {
              ParseConfig(json{{"model_type", "gemma4_text"},
                               {"num_hidden_layers", 3},
                               {"layer_types", {"sliding_attention", "full_attention"}}});
            }),
            "config.json: layer_types has 2 entries, expected 3 (num_hidden_layers)");
  EXPECT_EQ(test::ErrorOf([] {
              ParseConfig(json{
                  {"model_type", "gemma4_text"},
                  {"num_hidden_layers", 4},
                  {"num_kv_shared_layers", 3},
                  {"layer_types", {"sliding_attention", "sliding_attention", "sliding_attention", "full_attention"}}});
            }),
            "config.json: KV-shared layer 3 (full_attention) has no earlier non-shared layer of "
            "the same type to read");
  EXPECT_EQ(test::ErrorOf([] {
              ParseConfig(json{{"model_type", "gemma4_text"}, {"hidden_activation", "silu"}});
            }),
            "config.json: hidden_activation \"silu\" is not supported (expected gelu_pytorch_tanh)");
  EXPECT_EQ(test::ErrorOf([] {
              ParseConfig(json{{"model_type", "gemma4_text"},
                               {"enable_moe_block", true},
                               {"num_experts", 4},
                               {"top_k_experts", 8},
                               {"moe_intermediate_size", 8}});
            }),
            "config.json: top_k_experts 8 exceeds num_experts 4");
}

TEST(ConfigTest, MissingAndMalformedFileErrors) {
  test::TempDir dir("config");
  EXPECT_EQ(test::ErrorOf([&] { LoadConfig(dir.path() / "config.json"); }),
            (dir.path() / "config.json").string() + ": cannot open (file missing or unreadable)");
  test::WriteFile(dir.path() / "config.json", "{\"model_type\": \"gemma4\",\n  \"text_config\": {");
  EXPECT_EQ(test::ErrorOf([&] { LoadConfig(dir.path() / "config.json"); }),
            "config.json: malformed JSON (parse error at byte 44)");
}

}  // namespace
}  // namespace vkg
