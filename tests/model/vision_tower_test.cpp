// The CPU reference vision tower against Hugging Face's soft tokens (tests/data/gemma4-mm: HF's
// Gemma4VisionModel + embed_vision on HF's own pixel_values), and the vision config and tensor
// checks (what is read from config.json, one-line errors for what the tower cannot run).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "host/model/checkpoint.h"
#include "host/reference/ref_model.h"
#include "host/reference/vision_tower.h"
#include "tests/mm_fixture.h"
#include "tests/model/test_helpers.h"

namespace vkg {
namespace {

namespace fs = std::filesystem;

class VisionTowerTest : public ::testing::TestWithParam<const char*> {};

// Soft tokens within 1e-4 absolute of HF's, every value (issue 21's gate).
TEST_P(VisionTowerTest, SoftTokensMatchHuggingFace) {
  const test::MmFixture f = test::LoadMmFixture(GetParam());
  const Checkpoint ckpt = Checkpoint::Load(f.dir);
  ASSERT_TRUE(ckpt.config().mm.has_vision);
  const ref::VisionTower tower(ckpt.config(), ref::VisionWeights::Load(ckpt));
  std::vector<float> soft;
  for (const ImagePatches& im : f.images) {
    const std::vector<float> s = tower.Encode(im);
    soft.insert(soft.end(), s.begin(), s.end());
  }
  ASSERT_EQ(soft.size(), f.soft_tokens.size());
  float worst = 0.f, scale = 0.f;
  for (size_t i = 0; i < soft.size(); ++i) {
    worst = std::max(worst, std::fabs(soft[i] - f.soft_tokens[i]));
    scale = std::max(scale, std::fabs(f.soft_tokens[i]));
  }
  EXPECT_LE(worst, 1e-4f) << "largest |soft token| " << scale;
  EXPECT_GT(scale, 0.1f);  // the fixture's soft tokens are not trivially small
}

// The whole prompt (text, BOI, the image's soft tokens, EOI, text) within 1e-3 of HF's logits at
// every position: the merge (unscaled soft tokens, pad row for per-layer embeddings) and, for
// dense-vision-bidir, the image seeing itself in both directions on sliding layers.
TEST_P(VisionTowerTest, LogitsMatchHuggingFace) {
  const test::MmFixture f = test::LoadMmFixture(GetParam());
  const Checkpoint ckpt = Checkpoint::Load(f.dir);
  const ref::VisionTower tower(ckpt.config(), ref::VisionWeights::Load(ckpt));
  CheckImagePrompt(ckpt.config(), f.tokens, f.images);
  std::vector<float> soft;
  for (const ImagePatches& im : f.images) {
    const std::vector<float> s = tower.Encode(im);
    soft.insert(soft.end(), s.begin(), s.end());
  }
  const ref::Model model(ckpt);
  ref::KvCache cache(ckpt.config());
  const std::vector<float> logits = model.ForwardWithImages(f.tokens, 0, cache, soft);
  ASSERT_EQ(logits.size(), f.logits.size());
  const size_t V = size_t(f.vocab);
  for (size_t t = 0; t < f.tokens.size(); ++t) {
    float worst = 0.f;
    for (size_t i = 0; i < V; ++i) worst = std::max(worst, std::fabs(logits[t * V + i] - f.logits[t * V + i]));
    EXPECT_LE(worst, 1e-3f) << "position " << t << " (token " << f.tokens[t] << ")";
  }
}

// The bidirectional fixture does exercise the rule: run causally, its image positions move by
// more than the tolerance (so LogitsMatchHuggingFace above cannot pass by accident).
TEST(VisionMergeTest, BidirectionalFixtureNeedsTheRule) {
  const test::MmFixture f = test::LoadMmFixture("dense-vision-bidir");
  const Checkpoint ckpt = Checkpoint::Load(f.dir);
  const ref::VisionTower tower(ckpt.config(), ref::VisionWeights::Load(ckpt));
  const std::vector<float> soft = tower.Encode(f.images.at(0));
  ModelConfig causal = ckpt.config();
  causal.mm.bidirectional_vision = false;
  const ref::Model model(causal, ref::ModelWeights::Load(ckpt));
  ref::KvCache cache(causal);
  const std::vector<float> logits = model.ForwardWithImages(f.tokens, 0, cache, soft);
  float worst = 0.f;
  for (size_t i = 0; i < logits.size(); ++i) worst = std::max(worst, std::fabs(logits[i] - f.logits[i]));
  EXPECT_GT(worst, 0.05f);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, VisionTowerTest,
                         ::testing::Values("ple-vision", "dense-vision-bidir", "dense-vision-bidir-2img"),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(VisionConfigTest, ReadsVisionConfigAndTokenIds) {
  const ModelConfig c = LoadConfig(test::MmFixtureDir("dense-vision-bidir") / "config.json");
  ASSERT_TRUE(c.mm.has_vision);
  EXPECT_EQ(c.mm.vision.hidden_size, 32);
  EXPECT_EQ(c.mm.vision.intermediate_size, 64);
  EXPECT_EQ(c.mm.vision.num_hidden_layers, 2);
  EXPECT_EQ(c.mm.vision.head_dim, 16);
  EXPECT_EQ(c.mm.vision.position_embedding_size, 128);
  EXPECT_FLOAT_EQ(c.mm.vision.rope_theta, 100.f);
  EXPECT_TRUE(c.mm.vision.use_clipped_linears);
  EXPECT_TRUE(c.mm.vision.standardize);
  EXPECT_EQ(c.mm.image_token_id, 252);
  EXPECT_EQ(c.mm.boi_token_id, 250);
  EXPECT_EQ(c.mm.eoi_token_id, 251);
  EXPECT_TRUE(c.mm.bidirectional_vision);
  EXPECT_FALSE(LoadConfig(test::MmFixtureDir("ple-vision") / "config.json").mm.bidirectional_vision);
  EXPECT_FALSE(LoadConfig(test::FixtureDir("ple") / "config.json").mm.has_vision);
}

TEST(VisionConfigTest, DefaultsAreTheReleasedTower) {
  const nlohmann::json doc = {
      {"model_type", "gemma4"}, {"image_token_id", 258880}, {"vision_config", nlohmann::json::object()}};
  const ModelConfig c = ParseConfig(doc);
  ASSERT_TRUE(c.mm.has_vision);
  EXPECT_EQ(c.mm.vision.hidden_size, 768);
  EXPECT_EQ(c.mm.vision.num_hidden_layers, 16);
  EXPECT_EQ(c.mm.vision.num_attention_heads, 12);
  EXPECT_EQ(c.mm.vision.head_dim, 64);
  EXPECT_EQ(c.mm.vision.patch_size, 16);
  EXPECT_EQ(c.mm.vision.pooling_kernel_size, 3);
  EXPECT_EQ(c.mm.vision.position_embedding_size, 10240);
  EXPECT_FALSE(c.mm.vision.use_clipped_linears);
}

void ExpectConfigError(const nlohmann::json& doc, const std::string& message) {
  try {
    ParseConfig(doc);
    ADD_FAILURE() << "no error, expected: " << message;
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(VisionConfigTest, RefusesWhatTheTowerCannotRun) {
  using nlohmann::json;
  ExpectConfigError({{"model_type", "gemma4"}, {"image_token_id", 5}, {"vision_config", {{"head_dim", 18}}}},
                    "config.json: vision_config.head_dim is 18, expected a multiple of 4 (2D RoPE)");
  ExpectConfigError(
      {{"model_type", "gemma4"}, {"image_token_id", 5}, {"vision_config", {{"hidden_activation", "relu"}}}},
      "config.json: vision_config.hidden_activation \"relu\" is not supported (expected gelu_pytorch_tanh)");
  ExpectConfigError({{"model_type", "gemma4"}, {"vision_config", json::object()}},
                    "config.json: vision_config is present but image_token_id is missing");
  ExpectConfigError({{"model_type", "gemma4"}, {"image_token_id", 5}, {"vision_config", 3}},
                    "config.json: vision_config is 3, expected an object or null");
}

TEST(VisionConfigTest, MissingVisionTensorIsNamed) {
  test::TempDir dir("vision_missing");
  const fs::path src = test::MmFixtureDir("ple-vision");
  fs::copy_file(src / "model.safetensors", dir.path() / "model.safetensors");
  // Same config with one more encoder layer: its tensors are absent.
  auto doc = nlohmann::json::parse(test::ReadBytes(src / "config.json"));
  doc["vision_config"]["num_hidden_layers"] = 3;
  std::ofstream(dir.path() / "config.json") << doc.dump();
  // The text model still loads; the tower's first use names the missing tensor.
  const Checkpoint ckpt = Checkpoint::Load(dir.path());
  try {
    ref::VisionWeights::Load(ckpt);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "model.safetensors: missing tensor vision_tower.encoder.layers.2.input_layernorm.weight (expected shape "
              "[32])");
  }
}

}  // namespace
}  // namespace vkg
