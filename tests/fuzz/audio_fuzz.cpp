// libFuzzer target: audio decoding (WAV, FLAC through libsndfile; MP3 through libmpg123;
// recognised by their first bytes), resampling to 16 kHz and the log-mel features: LoadAudioBytes,
// serve's input_audio path. A load either returns features consistent with themselves or throws
// vkg::Error (one `error:` line in the CLI). The decoders read at most 30 s (+ a quarter) from any
// header, so no input makes them allocate more than that clip.
#include <cstddef>
#include <cstdint>
#include <span>

#include "host/audio/audio_input.h"
#include "host/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const vkg::AudioFeatures f = vkg::LoadAudioBytes(std::span<const uint8_t>(data, size), "fuzz");
    if (f.frames <= 0 || f.valid_frames <= 0 || f.valid_frames > f.frames ||
        f.mel.size() != size_t(f.frames) * vkg::AudioFeatures::kMelBins || f.soft_tokens != (f.valid_frames + 3) / 4 ||
        f.soft_tokens > vkg::audio::kMaxSoftTokens) {
      __builtin_trap();
    }
  } catch (const vkg::Error&) {
  }
  return 0;
}
