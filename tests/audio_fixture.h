// The audio fixtures of tests/data/gemma4-mm (made by Hugging Face's own Gemma 4 code): the prompt
// (BOA, audio_token_id x soft tokens, EOA), HF's log-mel features of audio.wav and HF's logits
// (layer: tests). Header-only: CPU and GPU tests share it.
#pragma once
#include <string>
#include <vector>

#include "host/model/audio_config.h"
#include "host/model/audio_features.h"
#include "tests/mm_fixture.h"

namespace vkg::test {

struct AudioFixture {
  std::filesystem::path dir;       // the checkpoint
  std::filesystem::path clip_dir;  // expected.json, audio_features.f32, logits.f32
  std::vector<int32_t> tokens;     // as HF's processor builds them
  AudioFeatures clip;              // HF's Gemma4AudioFeatureExtractor output for audio.wav
  std::vector<float> logits;       // [tokens][vocab]
  int vocab = 0;
};

// audio_features.f32 [frames][128]: HF's extractor zeroes the rows its mask marks invalid (the last
// frame of these clips), so the valid frames are those before the trailing all-zero rows. `clip`: a
// subfolder holding another clip's files for the same checkpoint (HF's make_mm_fixture.py with the
// same seed and another --audio-seconds makes the same weights), "" for the fixture's own.
inline AudioFixture LoadAudioFixture(const std::string& name, const std::string& clip = "") {
  AudioFixture f;
  f.dir = MmFixtureDir(name);
  f.clip_dir = clip.empty() ? f.dir : f.dir / clip;
  const auto expected = nlohmann::json::parse(ReadBytes(f.clip_dir / "expected.json"));
  for (const auto& t : expected.at("tokens")) f.tokens.push_back(t.get<int32_t>());
  f.vocab = expected.at("vocab").get<int>();
  const auto& audio = expected.at("audio");
  f.clip.mel = ReadF32(f.clip_dir / "audio_features.f32");
  f.clip.frames = audio.at("features_shape")[0].get<int>();
  f.clip.valid_frames = f.clip.frames;
  auto zero_row = [&](int r) {
    for (int i = 0; i < AudioFeatures::kMelBins; ++i)
      if (f.clip.mel[size_t(r) * AudioFeatures::kMelBins + size_t(i)] != 0.f) return false;
    return true;
  };
  while (f.clip.valid_frames > 0 && zero_row(f.clip.valid_frames - 1)) --f.clip.valid_frames;
  f.clip.soft_tokens = audio.at("soft_tokens").get<int>();
  f.logits = ReadF32(f.clip_dir / "logits.f32");
  return f;
}

}  // namespace vkg::test
