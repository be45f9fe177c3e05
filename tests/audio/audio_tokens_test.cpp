// The clip's prompt tokens: ids from config.json (the released spelling eoa_token_index), the
// placeholder expansion Gemma4Processor applies (BOA, soft_tokens x audio_token_id, EOA), the runs
// `logits --tokens` lists hold, and the chat template's "<|audio|>" place.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "host/audio/audio_input.h"
#include "host/error.h"
#include "tests/audio/audio_fixture.h"

namespace vkg::audio {
namespace {

std::filesystem::path ModelDir(const std::string& name, const std::string& config) {
  const auto dir = testing::TempPath(name);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config.json") << config;
  return dir;
}

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(AudioTokens, IdsComeFromConfigJson) {
  const auto ids = ReadAudioTokenIds(
      ModelDir("m1", R"({"audio_config": {}, "boa_token_id": 253, "audio_token_id": 255, "eoa_token_index": 254})"));
  ASSERT_TRUE(ids);
  EXPECT_EQ(ids->boa, 253);
  EXPECT_EQ(ids->audio, 255);
  EXPECT_EQ(ids->eoa, 254);
  EXPECT_FALSE(ReadAudioTokenIds(ModelDir("m2", R"({"vision_config": {}})")));
  EXPECT_FALSE(ReadAudioTokenIds(ModelDir("m3", R"({"audio_config": null})")));
  const auto bad = ModelDir("m4", R"({"audio_config": {}, "boa_token_id": 253, "eoa_token_index": 254})");
  EXPECT_EQ(
      ErrorOf([&] { ReadAudioTokenIds(bad); }),
      (bad / "config.json").string() + ": audio_config is there but \"audio_token_id\" is missing or not a token id");
}

TEST(AudioTokens, PlaceholdersExpandAsTheProcessorDoes) {
  const AudioTokenIds t{253, 255, 254};
  const std::vector<int32_t> prompt = {2, 10, 255, 11, 255, 12};
  const std::vector<uint32_t> soft = {3, 1};
  EXPECT_EQ(ExpandAudioPlaceholders(prompt, t, soft),
            (std::vector<int32_t>{2, 10, 253, 255, 255, 255, 254, 11, 253, 255, 254, 12}));
  EXPECT_EQ(ErrorOf([&] { ExpandAudioPlaceholders(prompt, t, std::vector<uint32_t>{3}); }),
            "the prompt has 2 audio place(s) but 1 audio clip(s) were given");
}

TEST(AudioTokens, RunsInATokenListMustMatchTheClips) {
  AudioFeatures a, b;
  a.soft_tokens = 3;
  b.soft_tokens = 1;
  const std::vector<AudioFeatures> clips = {a, b};
  const std::vector<int32_t> ids = {2, 253, 255, 255, 255, 254, 7, 253, 255, 254};
  const std::vector<AudioSpan> spans = FindAudioSpans(ids, 255, clips);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].first, 2u);
  EXPECT_EQ(spans[0].length, 3u);
  EXPECT_EQ(spans[1].first, 8u);
  EXPECT_EQ(ErrorOf([&] {
              FindAudioSpans(std::vector<int32_t>{2, 5}, 255, clips);
            }),
            "the tokens hold 0 run(s) of audio token 255 but 2 audio clip(s) were given");
  EXPECT_EQ(ErrorOf([&] {
              FindAudioSpans(std::vector<int32_t>{2, 255, 255, 7, 255}, 255, clips);
            }),
            "audio clip 1 has 3 soft tokens but its run of audio tokens at position 1 has 2");
}

}  // namespace
}  // namespace vkg::audio
