// AudioFeatures: one audio clip as the audio tower takes it, HF's Gemma4AudioFeatureExtractor
// output (input_features + input_features_mask) for one clip (layer: host/model, CPU only).
// Produced by host/audio (file decoding, resampling, log-mel); consumed by the audio tower
// (Engine::AttachAudio). Kept here, beside ImagePatches, so the engine never depends on codecs.
#pragma once
#include <vector>

namespace vkg {

// Two kinds, as the model's config says (MultimodalConfig::audio_unified): Gemma 4's log-mel frames
// for the conformer (width 128), or gemma4_unified's raw frames (Gemma4UnifiedAudioFeatureExtractor:
// the 16 kHz waveform cut into 640-sample rows, the last zero-padded; one soft token per row).
struct AudioFeatures {
  static constexpr int kMelBins = 128;
  int frames = 0;          // rows of `mel`, as HF's extractor returns them (padding included)
  int valid_frames = 0;    // leading rows that are real audio (HF's input_features_mask is a prefix)
  int width = kMelBins;    // values per row: kMelBins, or the raw frame's samples (640)
  std::vector<float> mel;  // [frames][width]: log(mel + 0.001), or raw samples in [-1, 1]; row-major
  bool raw_frames() const { return width != kMelBins; }
  int soft_tokens = 0;  // audio_token_id positions this clip fills in a prompt (one per 40 ms)
};

}  // namespace vkg
