// Real speech: espeak-ng (Debian's package) speaks a sentence into a WAV at its own rate (22050 Hz),
// and the whole path reads it: the 16 kHz length librosa's rule gives, HF's frame count and mask, one
// soft token per 40 ms, and features that tell speech from the silence around it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "host/audio/audio_input.h"
#include "tests/audio/audio_fixture.h"

namespace vkg::audio {
namespace {

TEST(AudioSpeech, EspeakSentenceGivesOneSoftTokenPer40Milliseconds) {
  if (std::system("command -v espeak-ng >/dev/null 2>&1") != 0) GTEST_SKIP() << "not run: espeak-ng missing";
  const auto wav = testing::TempPath("talk.wav");
  const std::string cmd =
      "espeak-ng -w '" + wav.string() + "' 'The quick brown fox jumps over the lazy dog.' 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);

  const DecodedAudio decoded = DecodeAudioFile(wav);
  EXPECT_EQ(decoded.rate, 22050);
  EXPECT_EQ(decoded.channels, 1);
  const double seconds = double(decoded.samples.size()) / decoded.rate;
  ASSERT_GT(seconds, 1.0);  // a sentence, not a click
  ASSERT_LT(seconds, 30.0);
  const std::vector<float> at16k = ResampleTo16k(decoded.samples, decoded.rate, "talk.wav");
  EXPECT_EQ(at16k.size(), size_t(std::ceil(double(decoded.samples.size()) * 16000.0 / 22050.0)));

  const AudioFeatures f = LoadAudioFile(wav.string());
  const int64_t n = int64_t(at16k.size());
  const int64_t padded = (n + 127) / 128 * 128;
  EXPECT_EQ(f.frames, (padded + 160 - 321) / 160 + 1);  // HF's frames over the padded samples
  EXPECT_EQ(f.valid_frames, (n - 160 + 159) / 160);     // frames whose window is all real audio
  EXPECT_EQ(f.soft_tokens, (f.valid_frames + 3) / 4);
  EXPECT_LE(std::abs(f.soft_tokens - seconds * 1000.0 / 40.0), 1.0);  // one per 40 ms
  EXPECT_EQ(f.mel.size(), size_t(f.frames) * AudioFeatures::kMelBins);

  // Speech is loud in the mel bands where silence sits at log(0.001): the loudest frame's mean log-mel
  // is far above the quietest valid frame's (espeak-ng leaves silence at the ends).
  std::vector<double> frame_mean(size_t(f.valid_frames));
  for (int t = 0; t < f.valid_frames; ++t) {
    double sum = 0;
    for (int b = 0; b < AudioFeatures::kMelBins; ++b) sum += f.mel[size_t(t) * AudioFeatures::kMelBins + size_t(b)];
    frame_mean[size_t(t)] = sum / AudioFeatures::kMelBins;
  }
  const auto [lo, hi] = std::minmax_element(frame_mean.begin(), frame_mean.end());
  EXPECT_LT(*lo, -6.0);  // near log(0.001) = -6.9
  EXPECT_GT(*hi - *lo, 4.0);
  std::filesystem::remove(wav);
}

}  // namespace
}  // namespace vkg::audio
