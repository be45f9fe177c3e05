// LoadAudioFile / LoadAudioBytes: decode, resample to 16 kHz, log-mel (layer: host/audio).
#include "host/audio/audio_input.h"

namespace vkg {
namespace {

AudioFeatures Features(const audio::DecodedAudio& decoded, const std::string& what) {
  const std::vector<float> samples = audio::ResampleTo16k(decoded.samples, decoded.rate, what);
  return audio::LogMelFeatures(samples, what);  // keeps the first 30 s, as HF's extractor
}

}  // namespace

AudioFeatures LoadAudioFile(const std::string& path) { return Features(audio::DecodeAudioFile(path), path); }

AudioFeatures LoadAudioBytes(std::span<const uint8_t> bytes, const std::string& what) {
  return Features(audio::DecodeAudio(bytes, what), what);
}

}  // namespace vkg
