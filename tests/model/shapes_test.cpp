// Built-in checkpoint configs (host/model/shapes.h) against docs/model.md §1.2 / §3.1.
// Parameter totals are closed-form sums of the §3.1 shape formulas (computed independently of
// ForEachTensor); they match the published text-decoder sizes (26B-A4B 25.2 B, 31B 30.7 B).
#include "host/model/shapes.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "host/error.h"
#include "host/model/tensor_names.h"

namespace vkg {
namespace {

std::map<std::string, std::vector<int64_t>> Shapes(const ModelConfig& c) {
  std::map<std::string, std::vector<int64_t>> m;
  ForEachTensor(c, [&](const TensorSpec& s) { m[s.name] = s.shape; });
  return m;
}

uint64_t Params(const ModelConfig& c) {
  uint64_t total = 0;
  ForEachTensor(c, [&](const TensorSpec& s) {
    uint64_t n = 1;
    for (int64_t d : s.shape) n *= uint64_t(d);
    total += n;
  });
  return total;
}

std::vector<int> FullLayers(const ModelConfig& c) {
  std::vector<int> f;
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    if (c.layers[size_t(l)].full) f.push_back(l);
  }
  return f;
}

std::vector<int> Every(int first, int step, int last) {
  std::vector<int> v;
  for (int i = first; i <= last; i += step) v.push_back(i);
  return v;
}

using Shape = std::vector<int64_t>;

TEST(Shapes, NamesAndUnknown) {
  EXPECT_EQ(ShapeNames(), (std::vector<std::string>{"e2b", "e4b", "12b", "26b-a4b", "31b"}));
  for (const std::string& n : ShapeNames()) EXPECT_NO_THROW(ShapeConfig(n)) << n;
  EXPECT_EQ(ShapeConfig("E2B").hidden_size, 1536);
  try {
    ShapeConfig("7b");
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'7b'"), std::string::npos) << msg;
    for (const std::string& n : ShapeNames()) EXPECT_NE(msg.find(n), std::string::npos) << msg;
  }
}

TEST(Shapes, CommonValues) {
  for (const std::string& n : ShapeNames()) {
    const ModelConfig c = ShapeConfig(n);
    EXPECT_EQ(c.vocab_size, 262144) << n;
    EXPECT_EQ(c.head_dim, 256) << n;
    EXPECT_EQ(c.global_head_dim, 512) << n;
    EXPECT_FLOAT_EQ(c.final_logit_softcapping, 30.f) << n;
    EXPECT_FLOAT_EQ(c.rms_norm_eps, 1e-6f) << n;
    EXPECT_TRUE(c.tie_word_embeddings) << n;
    EXPECT_EQ(int(c.layers.size()), c.num_hidden_layers) << n;
    EXPECT_TRUE(c.layers.back().full) << n;
    for (const LayerInfo& li : c.layers) {
      EXPECT_FLOAT_EQ(li.rope_theta, li.full ? 1e6f : 1e4f) << n;
      EXPECT_EQ(li.rope_pairs, li.full ? 64 : 128) << n;  // 0.25 * 512 / 2; 256 / 2
      EXPECT_EQ(li.window, li.full ? 0 : c.sliding_window) << n;
    }
  }
}

TEST(Shapes, E2B) {
  const ModelConfig c = ShapeConfig("e2b");
  EXPECT_EQ(c.model_type, "gemma4");
  EXPECT_EQ(c.num_hidden_layers, 35);
  EXPECT_EQ(FullLayers(c), Every(4, 5, 34));
  EXPECT_EQ(c.sliding_window, 512);
  EXPECT_EQ(c.max_position_embeddings, 131072);
  EXPECT_TRUE(c.has_ple());
  EXPECT_FALSE(c.has_moe());
  EXPECT_EQ(c.first_kv_shared_layer(), 15);
  EXPECT_EQ(c.layers[14].ffn_dim, 6144);
  EXPECT_EQ(c.layers[15].ffn_dim, 12288);       // double-wide on KV-shared layers
  EXPECT_EQ(c.layers[15].kv_source_layer, 13);  // last sliding non-shared layer
  EXPECT_EQ(c.layers[19].kv_source_layer, 14);  // last full non-shared layer
  const auto s = Shapes(c);
  EXPECT_EQ(s.at("layers.0.self_attn.q_proj.weight"), (Shape{2048, 1536}));
  EXPECT_EQ(s.at("layers.0.self_attn.k_proj.weight"), (Shape{256, 1536}));
  EXPECT_EQ(s.at("layers.0.self_attn.v_proj.weight"), (Shape{256, 1536}));
  EXPECT_EQ(s.at("layers.0.self_attn.o_proj.weight"), (Shape{1536, 2048}));
  EXPECT_EQ(s.at("layers.4.self_attn.q_proj.weight"), (Shape{4096, 1536}));
  EXPECT_EQ(s.at("layers.4.self_attn.k_proj.weight"), (Shape{512, 1536}));
  EXPECT_EQ(s.at("layers.4.self_attn.v_proj.weight"), (Shape{512, 1536}));
  EXPECT_EQ(s.at("layers.4.self_attn.o_proj.weight"), (Shape{1536, 4096}));
  EXPECT_EQ(s.count("layers.15.self_attn.k_proj.weight"), 0u);
  EXPECT_EQ(s.at("layers.15.mlp.gate_proj.weight"), (Shape{12288, 1536}));
  EXPECT_EQ(s.at("layers.14.mlp.down_proj.weight"), (Shape{1536, 6144}));
  EXPECT_EQ(s.at("embed_tokens.weight"), (Shape{262144, 1536}));
  EXPECT_EQ(s.at("embed_tokens_per_layer.weight"), (Shape{262144, 8960}));
  EXPECT_EQ(s.at("per_layer_model_projection.weight"), (Shape{8960, 1536}));
  EXPECT_EQ(Params(c), 4628569379ull);
}

TEST(Shapes, E4B) {
  const ModelConfig c = ShapeConfig("e4b");
  EXPECT_EQ(c.num_hidden_layers, 42);
  EXPECT_EQ(FullLayers(c), Every(5, 6, 41));
  EXPECT_EQ(c.first_kv_shared_layer(), 24);
  EXPECT_EQ(c.layers[30].ffn_dim, 10240);  // not double-wide
  const auto s = Shapes(c);
  EXPECT_EQ(s.at("layers.0.self_attn.q_proj.weight"), (Shape{2048, 2560}));
  EXPECT_EQ(s.at("layers.0.self_attn.k_proj.weight"), (Shape{512, 2560}));
  EXPECT_EQ(s.at("layers.5.self_attn.q_proj.weight"), (Shape{4096, 2560}));
  EXPECT_EQ(s.at("layers.5.self_attn.k_proj.weight"), (Shape{1024, 2560}));
  EXPECT_EQ(s.at("embed_tokens_per_layer.weight"), (Shape{262144, 10752}));
  EXPECT_EQ(Params(c), 7463013418ull);
}

TEST(Shapes, G12B) {
  const ModelConfig c = ShapeConfig("12b");
  EXPECT_EQ(c.model_type, "gemma4_unified");
  EXPECT_TRUE(c.unified);
  EXPECT_FALSE(c.has_ple());
  EXPECT_FALSE(c.has_moe());
  EXPECT_EQ(c.num_hidden_layers, 48);
  EXPECT_EQ(FullLayers(c), Every(5, 6, 47));
  EXPECT_EQ(c.sliding_window, 1024);
  EXPECT_EQ(c.max_position_embeddings, 262144);
  const auto s = Shapes(c);
  EXPECT_EQ(s.at("layers.0.self_attn.q_proj.weight"), (Shape{4096, 3840}));
  EXPECT_EQ(s.at("layers.0.self_attn.k_proj.weight"), (Shape{2048, 3840}));
  EXPECT_EQ(s.at("layers.5.self_attn.q_proj.weight"), (Shape{8192, 3840}));
  EXPECT_EQ(s.at("layers.5.self_attn.k_proj.weight"), (Shape{512, 3840}));
  EXPECT_EQ(s.count("layers.5.self_attn.v_proj.weight"), 0u);  // k_eq_v
  EXPECT_EQ(s.at("layers.0.mlp.up_proj.weight"), (Shape{15360, 3840}));
  EXPECT_EQ(s.count("embed_tokens_per_layer.weight"), 0u);
  EXPECT_EQ(Params(c), 11907350320ull);
}

TEST(Shapes, G26BA4B) {
  const ModelConfig c = ShapeConfig("26b-a4b");
  EXPECT_TRUE(c.has_moe());
  EXPECT_FALSE(c.has_ple());
  EXPECT_EQ(c.num_hidden_layers, 30);
  EXPECT_EQ(FullLayers(c), Every(5, 6, 29));
  EXPECT_EQ(c.num_experts, 128);
  EXPECT_EQ(c.top_k_experts, 8);
  EXPECT_EQ(c.moe_intermediate_size, 704);
  EXPECT_EQ(c.layers[5].n_kv_heads, 2);
  EXPECT_EQ(c.layers[0].n_kv_heads, 8);
  const auto s = Shapes(c);
  EXPECT_EQ(s.at("layers.0.self_attn.q_proj.weight"), (Shape{4096, 2816}));
  EXPECT_EQ(s.at("layers.0.self_attn.v_proj.weight"), (Shape{2048, 2816}));
  EXPECT_EQ(s.at("layers.5.self_attn.q_proj.weight"), (Shape{8192, 2816}));
  EXPECT_EQ(s.at("layers.5.self_attn.k_proj.weight"), (Shape{1024, 2816}));
  EXPECT_EQ(s.count("layers.5.self_attn.v_proj.weight"), 0u);
  EXPECT_EQ(s.at("layers.5.self_attn.o_proj.weight"), (Shape{2816, 8192}));
  EXPECT_EQ(s.at("layers.0.mlp.gate_proj.weight"), (Shape{2112, 2816}));
  EXPECT_EQ(s.at("layers.0.experts.gate_up_proj"), (Shape{128, 1408, 2816}));
  EXPECT_EQ(s.at("layers.0.experts.down_proj"), (Shape{128, 2816, 704}));
  EXPECT_EQ(s.at("layers.0.router.proj.weight"), (Shape{128, 2816}));
  EXPECT_EQ(Params(c), 25233141790ull);
}

TEST(Shapes, G31B) {
  const ModelConfig c = ShapeConfig("31b");
  EXPECT_EQ(c.num_hidden_layers, 60);
  EXPECT_EQ(FullLayers(c), Every(5, 6, 59));
  EXPECT_EQ(c.layers[59].n_kv_heads, 4);
  const auto s = Shapes(c);
  EXPECT_EQ(s.at("layers.0.self_attn.q_proj.weight"), (Shape{8192, 5376}));
  EXPECT_EQ(s.at("layers.0.self_attn.k_proj.weight"), (Shape{4096, 5376}));
  EXPECT_EQ(s.at("layers.0.self_attn.o_proj.weight"), (Shape{5376, 8192}));
  EXPECT_EQ(s.at("layers.5.self_attn.q_proj.weight"), (Shape{16384, 5376}));
  EXPECT_EQ(s.at("layers.5.self_attn.k_proj.weight"), (Shape{2048, 5376}));
  EXPECT_EQ(s.at("layers.5.self_attn.o_proj.weight"), (Shape{5376, 16384}));
  EXPECT_EQ(s.at("layers.0.mlp.down_proj.weight"), (Shape{5376, 21504}));
  EXPECT_EQ(Params(c), 30697345340ull);
}

}  // namespace
}  // namespace vkg
