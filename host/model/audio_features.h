// AudioFeatures: one audio clip as the audio tower takes it, HF's Gemma4AudioFeatureExtractor
// output (input_features + input_features_mask) for one clip (layer: host/model, CPU only).
// Produced by host/audio (file decoding, resampling, log-mel); consumed by the audio tower
// (Engine::AttachAudio). Kept here, beside ImagePatches, so the engine never depends on codecs.
#pragma once
#include <vector>

namespace vkg {

struct AudioFeatures {
  static constexpr int kMelBins = 128;
  int frames = 0;          // rows of `mel`, as HF's extractor returns them (padding included)
  int valid_frames = 0;    // leading rows that are real audio (HF's input_features_mask is a prefix)
  std::vector<float> mel;  // [frames][kMelBins] log(mel + 0.001), row-major
  int soft_tokens = 0;     // audio_token_id positions this clip fills in a prompt (one per 40 ms)
};

}  // namespace vkg
