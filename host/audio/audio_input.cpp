// LoadAudioFile / LoadAudioBytes: decode, resample to 16 kHz, log-mel (layer: host/audio).
#include "host/audio/audio_input.h"

namespace vkg {
namespace {

AudioFeatures Features(const audio::DecodedAudio& decoded, const std::string& what, int raw_frame_samples) {
  const std::vector<float> samples = audio::ResampleTo16k(decoded.samples, decoded.rate, what);
  if (raw_frame_samples > 0) return audio::RawAudioFrames(samples, raw_frame_samples, what);
  return audio::LogMelFeatures(samples, what);  // keeps the first 30 s, as HF's extractor
}

}  // namespace

AudioFeatures LoadAudioFile(const std::string& path, int raw_frame_samples) {
  return Features(audio::DecodeAudioFile(path), path, raw_frame_samples);
}

AudioFeatures LoadAudioBytes(std::span<const uint8_t> bytes, const std::string& what, int raw_frame_samples) {
  return Features(audio::DecodeAudio(bytes, what), what, raw_frame_samples);
}

}  // namespace vkg
