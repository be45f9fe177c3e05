// The CPU reference audio tower against Hugging Face's logits (tests/data/gemma4-mm/ple-audio:
// HF's Gemma4AudioModel + embed_audio on HF's own log-mel features, then the text model), through
// the reference model; the audio config and the one-line errors of a bad prompt (the engines'
// AttachAudio: tests/model_gpu/audio_tower_gpu_test.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "host/error.h"
#include "host/model/audio_prompt.h"
#include "host/model/checkpoint.h"
#include "host/reference/audio_tower.h"
#include "host/reference/ref_model.h"
#include "tests/audio_fixture.h"
#include "tests/model/test_helpers.h"

namespace vkg {
namespace {

void ExpectLogitsMatch(const std::vector<float>& logits, const test::AudioFixture& f) {
  ASSERT_EQ(logits.size(), f.logits.size());
  const size_t V = size_t(f.vocab);
  for (size_t t = 0; t < f.tokens.size(); ++t) {
    float worst = 0.f;
    for (size_t i = 0; i < V; ++i) worst = std::max(worst, std::fabs(logits[t * V + i] - f.logits[t * V + i]));
    EXPECT_LE(worst, 1e-3f) << "position " << t << " (token " << f.tokens[t] << ")";
  }
}

// Every position of BOA, the clip's 33 soft tokens, EOA and the text around them within 1e-3 of
// HF's logits (issue 22's gate).
std::vector<float> RunWithAudio(const test::AudioFixture& f) {
  const Checkpoint ckpt = Checkpoint::Load(f.dir);
  CheckAudioPrompt(ckpt.config(), f.tokens, {f.clip});
  const ref::AudioTower tower(ckpt.config(), ref::AudioWeights::Load(ckpt));
  const std::vector<float> soft = tower.Encode(f.clip);
  const ref::Model model(ckpt);
  ref::KvCache cache(ckpt.config());
  return model.ForwardWithImages(f.tokens, 0, cache, soft);
}

class AudioClipTest : public ::testing::TestWithParam<const char*> {};

TEST_P(AudioClipTest, LogitsMatchHuggingFace) {
  const test::AudioFixture f = test::LoadAudioFixture("ple-audio", GetParam());
  ASSERT_EQ(f.clip.soft_tokens, AudioConfig::SoftTokens(f.clip.valid_frames));
  ExpectLogitsMatch(RunWithAudio(f), f);
}

// 1.3 s (33 soft tokens), 0.3 s (8: under one attention chunk), 4 s (100: many chunks).
INSTANTIATE_TEST_SUITE_P(Clips, AudioClipTest, ::testing::Values("", "clip-0.3s", "clip-4s"), [](const auto& info) {
  std::string n = *info.param ? info.param : "clip-1.3s";
  for (char& ch : n) ch = (ch == '-' || ch == '.') ? '_' : ch;
  return n;
});

// The audio changes the logits after it by more than the tolerance (the match above is not won
// by text alone): zeroed features (log 0.001) move the text positions after EOA.
TEST(AudioTowerTest, LogitsMoveWithTheAudio) {
  test::AudioFixture f = test::LoadAudioFixture("ple-audio");
  std::fill(f.clip.mel.begin(), f.clip.mel.end(), std::log(0.001f));
  const std::vector<float> logits = RunWithAudio(f);
  const size_t V = size_t(f.vocab), last = f.tokens.size() - 1;
  float worst = 0.f;
  for (size_t i = 0; i < V; ++i) worst = std::max(worst, std::fabs(logits[last * V + i] - f.logits[last * V + i]));
  EXPECT_GT(worst, 0.01f);
}

// Features past valid_frames are ignored (HF masks them): padding the clip changes nothing.
TEST(AudioTowerTest, PaddedFramesAreIgnored) {
  const test::AudioFixture f = test::LoadAudioFixture("ple-audio");
  const Checkpoint ckpt = Checkpoint::Load(f.dir);
  const ref::AudioTower tower(ckpt.config(), ref::AudioWeights::Load(ckpt));
  AudioFeatures padded = f.clip;
  padded.frames += 126;
  padded.mel.resize(size_t(padded.frames) * AudioFeatures::kMelBins, 3.f);
  EXPECT_EQ(tower.Encode(padded), tower.Encode(f.clip));
}

std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(AudioPromptTest, OneLineErrors) {
  const test::AudioFixture f = test::LoadAudioFixture("ple-audio");
  const ModelConfig c = LoadConfig(f.dir / "config.json");
  std::vector<int32_t> tokens = f.tokens;
  EXPECT_EQ(ErrorOf([&] { CheckAudioPrompt(LoadConfig(test::FixtureDir("ple") / "config.json"), tokens, {f.clip}); }),
            "this model has no audio tower (its config.json has no audio_config): it cannot take audio");
  tokens.erase(std::find(tokens.begin(), tokens.end(), c.mm.audio_token_id));
  EXPECT_EQ(ErrorOf([&] { CheckAudioPrompt(c, tokens, {f.clip}); }),
            "audio clip 1 makes 33 soft tokens but its run in the prompt has 32 audio tokens");
  EXPECT_EQ(ErrorOf([&] {
              CheckAudioPrompt(c, f.tokens, {f.clip, f.clip});
            }),
            "the prompt has 1 audio-token run but 2 audio clips were given");
  AudioFeatures bad = f.clip;
  bad.soft_tokens = 30;
  EXPECT_EQ(ErrorOf([&] { CheckAudioPrompt(c, f.tokens, {bad}); }),
            "audio clip 1: 129 valid frames make 33 soft tokens, not 30");
  bad = f.clip;
  bad.mel.pop_back();
  EXPECT_EQ(ErrorOf([&] { CheckAudioPrompt(c, f.tokens, {bad}); }),
            "audio clip 1: 16639 mel values for 130 frames of 128 bins");
  bad = f.clip;
  bad.valid_frames = 0;
  EXPECT_EQ(ErrorOf([&] { CheckAudioPrompt(c, f.tokens, {bad}); }),
            "audio clip 1: 0 valid frames of 130 (expected 0 < valid <= frames)");
}

TEST(AudioConfigTest, ReadsAudioConfigAndTokenIds) {
  const ModelConfig c = LoadConfig(test::MmFixtureDir("ple-audio") / "config.json");
  ASSERT_TRUE(c.mm.has_audio);
  EXPECT_FALSE(c.mm.has_vision);
  EXPECT_EQ(c.mm.audio.hidden_size, 32);
  EXPECT_EQ(c.mm.audio.num_hidden_layers, 2);
  EXPECT_EQ(c.mm.audio.num_attention_heads, 2);
  EXPECT_EQ(c.mm.audio.subsampling_channels0, 128);
  EXPECT_EQ(c.mm.audio.subsampling_channels1, 4);
  EXPECT_EQ(c.mm.audio.output_proj_dims, 48);
  EXPECT_EQ(c.mm.audio_token_id, 255);
  EXPECT_EQ(c.mm.boa_token_id, 253);
  EXPECT_EQ(c.mm.eoa_token_id, 254);
  EXPECT_FALSE(LoadConfig(test::FixtureDir("ple") / "config.json").mm.has_audio);
  // The released tower: HF Gemma4AudioConfig's defaults.
  const ModelConfig d =
      ParseConfig({{"model_type", "gemma4"}, {"audio_token_id", 258881}, {"audio_config", nlohmann::json::object()}});
  EXPECT_EQ(d.mm.audio.hidden_size, 1024);
  EXPECT_EQ(d.mm.audio.num_hidden_layers, 12);
  EXPECT_EQ(d.mm.audio.num_attention_heads, 8);
  EXPECT_EQ(d.mm.audio.subsampling_channels1, 32);
  EXPECT_EQ(d.mm.audio.output_proj_dims, 1536);
  EXPECT_EQ(d.mm.audio.attention_context_left, 13);
  EXPECT_EQ(AudioConfig::SoftTokens(3000), 750);  // 30 s
  EXPECT_EQ(AudioConfig::SoftTokens(1), 1);
}

TEST(AudioConfigTest, RefusesWhatTheTowerCannotRun) {
  auto error = [](nlohmann::json audio) {
    return ErrorOf([&] { ParseConfig({{"model_type", "gemma4"}, {"audio_token_id", 5}, {"audio_config", audio}}); });
  };
  EXPECT_EQ(error({{"attention_context_right", 2}}),
            "config.json: audio_config.attention_context_right is 2, expected 0 (the released towers are causal)");
  EXPECT_EQ(error({{"hidden_size", 30}, {"num_attention_heads", 4}}),
            "config.json: audio_config.hidden_size 30 is not divisible by num_attention_heads 4");
  EXPECT_EQ(error({{"hidden_act", "gelu"}}),
            "config.json: audio_config.hidden_act \"gelu\" is not supported (expected silu)");
  EXPECT_EQ(ErrorOf([] {
              ParseConfig({{"model_type", "gemma4"}, {"audio_config", nlohmann::json::object()}});
            }),
            "config.json: audio_config is present but audio_token_id is missing");
}

}  // namespace
}  // namespace vkg
