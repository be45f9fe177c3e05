// gemma4_unified's audio input: the raw 16 kHz waveform cut into frames, one soft token each
// (HF's Gemma4UnifiedAudioFeatureExtractor._extract_waveform_features) (layer: host/audio).
#include <algorithm>

#include "host/audio/audio_input.h"
#include "host/error.h"

namespace vkg::audio {

AudioFeatures RawAudioFrames(std::span<const float> samples_16k, int samples_per_frame, const std::string& what) {
  if (samples_per_frame <= 0) throw Error(what + ": a raw audio frame must hold at least one sample");
  // 30 s at most: the processor's audio_seq_length (750 soft tokens of 40 ms), as the log-mel path.
  const size_t n = std::min(samples_16k.size(), size_t(kMaxSamples));
  if (n == 0) throw Error(what + ": the clip holds no samples");
  const size_t F = size_t(samples_per_frame);
  AudioFeatures f;
  f.width = samples_per_frame;
  f.frames = int((n + F - 1) / F);  // the last frame zero-padded (HF pads to a multiple of F)
  f.valid_frames = f.frames;        // every frame is valid (HF's mask is all ones)
  f.soft_tokens = f.frames;
  f.mel.assign(size_t(f.frames) * F, 0.f);
  std::copy(samples_16k.begin(), samples_16k.begin() + std::ptrdiff_t(n), f.mel.begin());
  return f;
}

}  // namespace vkg::audio
