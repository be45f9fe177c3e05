// libFuzzer target: audio decoding (WAV and FLAC through libsndfile, MP3 through libmpg123;
// recognised by their first bytes) and, for one input in 8, the rest of LoadAudioBytes (serve's
// input_audio path): resampling to 16 kHz and the log-mel features. A load either returns features
// consistent with themselves or throws vkg::Error (one `error:` line in the CLI). The decoders read
// at most 30 s (+ a quarter) from any header, so no input makes them allocate more than that clip.
// Why one in 8: the resampler's set-up and the FFT under coverage tracing cost ~50 ms an input
// (decoding alone ~1 ms), and they are fixed arithmetic on bounded arrays; the decoders are where
// hostile bytes steer the code, so they get most of the executions (as image_fuzz does with the resize).
#include <cstddef>
#include <cstdint>
#include <span>

#include "host/audio/audio_input.h"
#include "host/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  try {
    if (size % 8 != 0) {
      const vkg::audio::DecodedAudio d = vkg::audio::DecodeAudio(bytes, "fuzz");
      const int64_t cap = int64_t(vkg::audio::kMaxSamples / vkg::audio::kSampleRate) * d.rate + d.rate / 4;
      if (d.samples.empty() || int64_t(d.samples.size()) > cap || d.channels < 1) __builtin_trap();
      return 0;
    }
    const vkg::AudioFeatures f = vkg::LoadAudioBytes(bytes, "fuzz");
    if (f.frames <= 0 || f.valid_frames <= 0 || f.valid_frames > f.frames ||
        f.mel.size() != size_t(f.frames) * vkg::AudioFeatures::kMelBins || f.soft_tokens != (f.valid_frames + 3) / 4 ||
        f.soft_tokens > vkg::audio::kMaxSoftTokens) {
      __builtin_trap();
    }
  } catch (const vkg::Error&) {
  }
  return 0;
}
