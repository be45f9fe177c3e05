// Log-mel features against Hugging Face's Gemma4AudioFeatureExtractor (tests/data/gemma4-audio,
// made by its make_fixtures.py): every value within 1e-4, the frame count, the mask (valid frames)
// and the processor's soft-token count, for a clip of 1.3 s (padding frames), 0.12 s (under one
// attention chunk), 4 s, and 31.5 s (HF keeps the first 30 s).
#include <gtest/gtest.h>

#include <cmath>

#include "host/audio/audio_input.h"
#include "host/error.h"
#include "tests/audio/audio_fixture.h"

namespace vkg::audio {
namespace {

using testing::DataDir;

void ExpectRow(const AudioFeatures& f, int row, const float* expected, const std::string& label) {
  ASSERT_LT(row, f.frames) << label;
  float worst = 0;
  int worst_bin = 0;
  for (int b = 0; b < AudioFeatures::kMelBins; ++b) {
    const float d = std::fabs(f.mel[size_t(row) * AudioFeatures::kMelBins + size_t(b)] - expected[b]);
    if (d > worst) worst = d, worst_bin = b;
  }
  EXPECT_LE(worst, 1e-4f) << label << " row " << row << " bin " << worst_bin;
}

TEST(AudioFeatures, EqualsHuggingFaceOnTheMixedFixtureClip) {
  // 1.3 s at 16 kHz: 20800 samples padded to 20864 -> 130 frames, the last one padding.
  const AudioFeatures f = LoadAudioFile((DataDir() / "hf_1s3.wav").string());
  EXPECT_EQ(f.frames, 130);
  EXPECT_EQ(f.valid_frames, 129);
  EXPECT_EQ(f.soft_tokens, 33);  // the ple-audio fixture's expected.json: 33 audio tokens in HF's prompt
  const std::vector<float> expected = testing::ReadF32(DataDir() / "hf_1s3.features.f32");
  ASSERT_EQ(expected.size(), f.mel.size());
  for (int r = 0; r < f.frames; ++r) ExpectRow(f, r, &expected[size_t(r) * 128], "hf_1s3");
}

TEST(AudioFeatures, EqualsHuggingFaceAtOtherLengthsAndTruncatesAt30Seconds) {
  const nlohmann::json manifest = testing::Manifest();
  for (const char* name : {"short", "seconds", "long"}) {
    SCOPED_TRACE(name);
    const nlohmann::json& c = manifest.at(name);
    const std::vector<int16_t> pcm = testing::Clip(c.at("samples").get<int64_t>(), c.at("seed").get<uint32_t>());
    const std::vector<uint8_t> wav = testing::MakeWav(pcm, 1, 16000);
    const AudioFeatures f = LoadAudioBytes(wav, name);
    EXPECT_EQ(f.frames, c.at("frames").get<int>());
    EXPECT_EQ(f.valid_frames, c.at("valid_frames").get<int>());
    EXPECT_EQ(f.soft_tokens, c.at("soft_tokens").get<int>());
    EXPECT_EQ(f.soft_tokens, SoftTokensForSamples(int64_t(pcm.size())));
    const std::vector<float> rows = testing::ReadF32(DataDir() / (std::string(name) + ".rows.f32"));
    const std::vector<int> which = c.at("rows").get<std::vector<int>>();
    ASSERT_EQ(rows.size(), which.size() * 128);
    for (size_t k = 0; k < which.size(); ++k) ExpectRow(f, which[k], &rows[k * 128], name);
  }
}

TEST(AudioFeatures, SoftTokensFollowTheProcessorsMask) {
  // Gemma4Processor.replace_audio_token: valid frames i * 160 + 160 < n, then ceil(valid / 4);
  // 30 s and more give HF's cap of 750.
  EXPECT_EQ(SoftTokensForSamples(0), 0);
  EXPECT_EQ(SoftTokensForSamples(160), 0);
  EXPECT_EQ(SoftTokensForSamples(161), 1);
  EXPECT_EQ(SoftTokensForSamples(16000), 25);  // one per 40 ms
  EXPECT_EQ(SoftTokensForSamples(20800), 33);
  EXPECT_EQ(SoftTokensForSamples(480000), 750);
  EXPECT_EQ(SoftTokensForSamples(480001), 750);
  EXPECT_EQ(SoftTokensForSamples(int64_t(3600) * 16000), 750);
}

TEST(AudioFeatures, ClipsUnderTenMillisecondsAreRefusedWithOneLine) {
  const std::vector<uint8_t> wav = testing::MakeWav(testing::Clip(160, 1), 1, 16000);
  try {
    LoadAudioBytes(wav, "tiny.wav");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "tiny.wav: too short (160 samples at 16 kHz; the model needs at least 161, about 10 ms)");
  }
}

}  // namespace
}  // namespace vkg::audio
