// ResampleTo16k: any source rate to the extractor's 16 kHz with libsoxr (layer: host/audio).
//
// Why libsoxr and not libsamplerate: librosa.load, which Hugging Face's examples and pipelines use
// to read audio at 16 kHz, resamples with soxr at its "HQ" setting by default (librosa >= 0.10), so
// the same library and setting give the model the samples HF's users give it. soxr is also a
// polyphase design that handles the common ratios (44.1k, 48k, 8k -> 16k) exactly and quickly.
#include <soxr.h>

#include <cmath>

#include "host/audio/audio_input.h"
#include "host/error.h"

namespace vkg::audio {

std::vector<float> ResampleTo16k(std::span<const float> samples, int rate, const std::string& what) {
  if (rate == kSampleRate) return std::vector<float>(samples.begin(), samples.end());
  if (rate < kMinSourceRate || rate > kMaxSourceRate) {
    throw Error(what + ": sample rate " + std::to_string(rate) + " Hz is out of range");
  }
  // librosa's length rule: ceil(n * target / source), then padded or cut to it.
  const size_t out_len = size_t(std::ceil(double(samples.size()) * kSampleRate / double(rate)));
  std::vector<float> out(out_len, 0.0f);
  if (out_len == 0) return out;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  size_t done = 0;
  const soxr_error_t err = soxr_oneshot(double(rate), double(kSampleRate), 1, samples.data(), samples.size(), nullptr,
                                        out.data(), out.size(), &done, &io, &quality, nullptr);
  if (err) throw Error(what + ": resampling from " + std::to_string(rate) + " Hz failed (" + err + ")");
  // soxr_oneshot flushes its filter, so `done` is out_len or one short of it; the rest stays 0.
  return out;
}

}  // namespace vkg::audio
