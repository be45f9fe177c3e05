// Decoding: every WAV sample format, stereo downmix, FLAC and MP3 (written here by libsndfile),
// resampling to 16 kHz, and one exact error line for each kind of bad file.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <numbers>

#include "host/audio/audio_input.h"
#include "host/error.h"
#include "tests/audio/audio_fixture.h"

namespace vkg::audio {
namespace {

using testing::Clip;
using testing::MakeWav;
using testing::WavFormat;

std::string ErrorOf(const std::vector<uint8_t>& bytes, const std::string& what) {
  try {
    LoadAudioBytes(bytes, what);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// libsndfile writing `pcm` (mono 16-bit) as `format`, for the FLAC and MP3 cases.
std::vector<uint8_t> Encode(const std::vector<int16_t>& pcm, int rate, int format, const std::string& name) {
  const auto path = testing::TempPath(name);
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = 1;
  info.format = format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!f) return {};
  sf_writef_short(f, pcm.data(), sf_count_t(pcm.size()));
  sf_close(f);
  return testing::ReadBytes(path);
}

TEST(AudioDecode, EveryWavSampleFormatDecodesToTheSameFeatures) {
  const std::vector<int16_t> pcm = Clip(8000, 11);
  const AudioFeatures ref = LoadAudioBytes(MakeWav(pcm, 1, 16000), "s16");
  EXPECT_EQ(ref.soft_tokens, SoftTokensForSamples(8000));
  for (WavFormat format : {WavFormat::kS24, WavFormat::kS32, WavFormat::kF32}) {
    const AudioFeatures f = LoadAudioBytes(MakeWav(pcm, 1, 16000, format), "wav");
    EXPECT_EQ(f.mel, ref.mel) << int(format);  // the same floats: decoding is exact
  }
  // Stereo with equal channels averages to the same samples; opposite channels to silence.
  std::vector<int16_t> stereo, opposite;
  for (int16_t s : pcm) stereo.insert(stereo.end(), {s, s}), opposite.insert(opposite.end(), {s, int16_t(-s)});
  EXPECT_EQ(LoadAudioBytes(MakeWav(stereo, 2, 16000), "stereo").mel, ref.mel);
  const DecodedAudio silent = DecodeAudio(MakeWav(opposite, 2, 16000), "opposite");
  EXPECT_EQ(silent.channels, 2);
  for (float s : silent.samples) ASSERT_EQ(s, 0.0f);
  // 8-bit keeps the top byte: unsigned, centred on 128, scaled by 1/128 (libsndfile, soundfile).
  const DecodedAudio u8 = DecodeAudio(MakeWav(pcm, 1, 16000, WavFormat::kU8), "u8");
  ASSERT_EQ(u8.samples.size(), pcm.size());
  for (size_t i = 0; i < pcm.size(); ++i) ASSERT_EQ(u8.samples[i], float(pcm[i] >> 8) / 128.0f) << i;
}

TEST(AudioDecode, FlacIsLosslessAndMp3KeepsTheLength) {
  const std::vector<int16_t> pcm = Clip(16000, 12);
  const AudioFeatures ref = LoadAudioBytes(MakeWav(pcm, 1, 16000), "wav");
  const std::vector<uint8_t> flac = Encode(pcm, 16000, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, "clip.flac");
  ASSERT_FALSE(flac.empty());
  EXPECT_EQ(LoadAudioBytes(flac, "clip.flac").mel, ref.mel);
  // A partial download: one line, whatever libFLAC says about it.
  const std::vector<uint8_t> cut(flac.begin(), flac.begin() + std::ptrdiff_t(flac.size() / 2));
  EXPECT_EQ(ErrorOf(cut, "cut.flac").rfind("cut.flac: the FLAC data is cut short or corrupt (", 0), 0u)
      << ErrorOf(cut, "cut.flac");
  const std::vector<uint8_t> mp3 = Encode(pcm, 16000, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, "clip.mp3");
  if (mp3.empty()) GTEST_SKIP() << "not run: this libsndfile writes no MP3 (no LAME)";
  const DecodedAudio d = DecodeAudio(mp3, "clip.mp3");
  EXPECT_EQ(d.rate, 16000);
  // LAME adds its encoder delay and pads the last frame: at most a few frames of 576 samples more.
  EXPECT_GE(d.samples.size(), pcm.size());
  EXPECT_LE(d.samples.size(), pcm.size() + 4 * 1152);
  EXPECT_GE(LoadAudioBytes(mp3, "clip.mp3").soft_tokens, ref.soft_tokens);
}

TEST(AudioDecode, OtherRatesAreResampledTo16kHz) {
  // A 1 kHz tone at 48000 and 44100 Hz: 16 kHz samples of the same tone, ceil(n * 16000 / rate) of them.
  for (int rate : {8000, 44100, 48000}) {
    SCOPED_TRACE(rate);
    const int n = rate;  // one second
    std::vector<int16_t> pcm(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
      pcm[size_t(i)] = int16_t(std::lround(16000 * std::sin(2 * std::numbers::pi * 1000.0 * i / rate)));
    const DecodedAudio d = DecodeAudio(MakeWav(pcm, 1, rate), "tone");
    const std::vector<float> out = ResampleTo16k(d.samples, d.rate, "tone");
    ASSERT_EQ(out.size(), size_t(16000));
    double worst = 0;
    for (int i = 800; i < 15200; ++i) {  // away from the ends, where the filter sees the edge
      const double want = 16000.0 / 32768.0 * std::sin(2 * std::numbers::pi * 1000.0 * i / 16000.0);
      worst = std::max(worst, std::fabs(out[size_t(i)] - want));
    }
    EXPECT_LT(worst, 2e-3);
    EXPECT_EQ(LoadAudioBytes(MakeWav(pcm, 1, rate), "tone").soft_tokens, 25);
  }
}

TEST(AudioDecode, OnlyTheFirst30SecondsAreDecoded) {
  // A 40 s stream: the decoder stops after 30 s and a quarter; the features are HF's first 30 s.
  const std::vector<int16_t> pcm = Clip(40 * 16000, 4);
  const DecodedAudio d = DecodeAudio(MakeWav(pcm, 1, 16000), "long");
  EXPECT_TRUE(d.truncated);
  EXPECT_DOUBLE_EQ(d.source_seconds, 40.0);
  EXPECT_EQ(d.samples.size(), size_t(30 * 16000 + 4000));
  const AudioFeatures f = LogMelFeatures(d.samples, "long");
  EXPECT_EQ(f.frames, 2999);
  EXPECT_EQ(f.soft_tokens, 750);
}

TEST(AudioDecode, BadFilesGetOneLineNamingThem) {
  const std::vector<uint8_t> wav = MakeWav(Clip(4000, 2), 1, 16000);
  EXPECT_EQ(ErrorOf({}, "a.wav"), "a.wav: the file is empty");
  EXPECT_EQ(ErrorOf({'h', 'e', 'l', 'l', 'o'}, "a.txt"), "a.txt: not an audio file vkgemma reads (WAV, FLAC or MP3)");
  // Cut in the samples: the header's length is not there.
  std::vector<uint8_t> cut(wav.begin(), wav.begin() + 44 + 3000);
  EXPECT_EQ(ErrorOf(cut, "cut.wav"), "cut.wav: truncated (its data chunk promises 8000 bytes, the file holds 3000)");
  // Cut in the header.
  std::vector<uint8_t> header_only(wav.begin(), wav.begin() + 30);
  EXPECT_EQ(ErrorOf(header_only, "h.wav").rfind("h.wav: cannot decode this WAV file (", 0), 0u)
      << ErrorOf(header_only, "h.wav");
  // No channels, no rate, an absurd rate, too many channels.
  const auto patched = [&](size_t at, uint32_t value, int bytes) {
    std::vector<uint8_t> w = wav;
    for (int i = 0; i < bytes; ++i) w[at + size_t(i)] = uint8_t(value >> (8 * i));
    return w;
  };
  EXPECT_EQ(ErrorOf(patched(22, 0, 2), "c0.wav").rfind("c0.wav: cannot decode this WAV file (", 0), 0u)
      << ErrorOf(patched(22, 0, 2), "c0.wav");
  EXPECT_EQ(ErrorOf(patched(24, 0, 4), "r0.wav").rfind("r0.wav: ", 0), 0u) << ErrorOf(patched(24, 0, 4), "r0.wav");
  EXPECT_EQ(ErrorOf(patched(24, 4000000, 4), "r4m.wav"),
            "r4m.wav: sample rate 4000000 Hz (vkgemma reads 1000 to 768000 Hz)");
  // A header claiming 4 GB of samples in a small file: nothing that size is allocated.
  EXPECT_EQ(ErrorOf(patched(40, 0xFFFFFFF0u, 4), "big.wav"),
            "big.wav: truncated (its data chunk promises 4294967280 bytes, the file holds 8000)");
  // The "length unknown" size streaming writers leave decodes what is there.
  EXPECT_EQ(LoadAudioBytes(patched(40, 0xFFFFFFFFu, 4), "stream.wav").soft_tokens, SoftTokensForSamples(4000));
  // A float WAV holding NaN.
  std::vector<uint8_t> f32 = MakeWav(Clip(4000, 2), 1, 16000, WavFormat::kF32);
  const uint32_t nan_bits = 0x7FC00000u;
  std::memcpy(&f32[44 + 4 * 100], &nan_bits, 4);
  EXPECT_EQ(ErrorOf(f32, "nan.wav"), "nan.wav: sample 100 is not a finite number");
  EXPECT_EQ(ErrorOf(MakeWav({}, 1, 16000), "none.wav"), "none.wav: the file holds no audio samples");
  // An MP3 frame header followed by nothing decodable: one line, and libmpg123 prints nothing.
  std::vector<uint8_t> junk(3000, 0);
  junk[0] = 0xFF, junk[1] = 0xFB;
  ::testing::internal::CaptureStderr();
  const std::string junk_error = ErrorOf(junk, "junk.mp3");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(junk_error.rfind("junk.mp3: cannot decode this MP3 file (", 0), 0u) << junk_error;
}

TEST(AudioDecode, FilesAreReadByPathWithOneLineErrors) {
  const auto path = testing::WriteFile("ok.wav", MakeWav(Clip(4000, 2), 1, 16000));
  EXPECT_EQ(LoadAudioFile(path.string()).soft_tokens, SoftTokensForSamples(4000));
  try {
    LoadAudioFile("/nonexistent/talk.wav");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/talk.wav: no such file");
  }
  try {
    LoadAudioFile(path.parent_path().string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path.parent_path().string() + ": not a regular file");
  }
}

}  // namespace
}  // namespace vkg::audio
