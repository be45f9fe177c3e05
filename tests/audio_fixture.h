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
  std::filesystem::path dir;
  std::vector<int32_t> tokens;  // as HF's processor builds them
  AudioFeatures clip;           // HF's Gemma4AudioFeatureExtractor output for audio.wav
  std::vector<float> logits;    // [tokens][vocab]
  int vocab = 0;
};

// audio_features.f32 [frames][128]; every frame valid (one clip: HF pads nothing).
inline AudioFixture LoadAudioFixture(const std::string& name) {
  AudioFixture f;
  f.dir = MmFixtureDir(name);
  const auto expected = nlohmann::json::parse(ReadBytes(f.dir / "expected.json"));
  for (const auto& t : expected.at("tokens")) f.tokens.push_back(t.get<int32_t>());
  f.vocab = expected.at("vocab").get<int>();
  const auto& audio = expected.at("audio");
  f.clip.mel = ReadF32(f.dir / "audio_features.f32");
  f.clip.frames = audio.at("features_shape")[0].get<int>();
  f.clip.valid_frames = f.clip.frames;
  f.clip.soft_tokens = audio.at("soft_tokens").get<int>();
  f.logits = ReadF32(f.dir / "logits.f32");
  return f;
}

}  // namespace vkg::test
