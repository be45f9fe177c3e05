// Audio input as the model hears it: an audio file decoded to mono float samples, resampled to
// 16 kHz, then Hugging Face's Gemma4AudioFeatureExtractor (log-mel features and their mask) and
// the number of prompt tokens that stand for the clip (layer: host/audio, CPU only; no Vulkan, no
// model weights). The audio tower (Engine::AttachAudio) consumes the vkg::AudioFeatures.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "host/model/audio_features.h"

namespace vkg {

// ---- The whole path (audio_input.cpp) ----
// A file (WAV, FLAC, MP3, recognised by its bytes) to the tower's features: decode,
// downmix, resample to 16 kHz, keep the first 30 s (HF's extractor truncates there), log-mel. Any
// failure (missing, empty, truncated, unknown format, no channels or rate, too short to hold one
// feature frame) throws vkg::Error with one line naming the file.
// raw_frame_samples > 0 (gemma4_unified, AudioTokenIds::raw_frame_samples): RawAudioFrames instead
// of log-mel.
AudioFeatures LoadAudioFile(const std::string& path, int raw_frame_samples = 0);
// The same from bytes in memory (serve's input_audio parts); `what` names them in errors
// ("audio 1 of the request").
AudioFeatures LoadAudioBytes(std::span<const uint8_t> bytes, const std::string& what, int raw_frame_samples = 0);

namespace audio {

// Gemma 4's feature extractor (HF defaults, preprocessor_config.json of the released checkpoints).
constexpr int kSampleRate = 16000;
constexpr int kFrameLength = 320;    // 20 ms window
constexpr int kHopLength = 160;      // 10 ms hop
constexpr int kFftLength = 512;      // next power of two of the window
constexpr int kMaxSamples = 480000;  // 30 s: HF's max_length, truncation on
constexpr int kPadToMultiple = 128;  // HF pads the samples (not frames) to this
constexpr double kMelFloor = 1e-3;   // log(mel + 0.001)
constexpr int kMaxSoftTokens = 750;  // the processor's audio_seq_length
// Decoders refuse streams beyond these before allocating (a hostile header cannot ask for more).
constexpr int kMaxChannels = 64;
constexpr int kMaxSourceRate = 768000;
constexpr int kMinSourceRate = 1000;

// A decoded clip: mono float samples in [-1, 1] at the file's own rate (libsndfile's scaling: PCM
// divided by 2^(bits-1), 8-bit unsigned centred; channels averaged, as librosa's to_mono).
struct DecodedAudio {
  int rate = 0;
  int channels = 0;
  double source_seconds = 0;   // the whole stream's length when the container says it (else 0)
  bool truncated = false;      // samples holds only the first 30 s (+ resampler margin)
  std::vector<float> samples;  // mono, the first ~30 s only
};

// ---- Decoding (audio_decode.cpp) ----
// Reads at most 30 s of audio (plus a little for the resampler) from the start of the stream; the
// rest is not decoded. Throws vkg::Error naming `what`.
DecodedAudio DecodeAudio(std::span<const uint8_t> bytes, const std::string& what);
DecodedAudio DecodeAudioFile(const std::filesystem::path& path);

// ---- Resampling (resample.cpp) ----
// libsoxr at its high-quality setting (SOXR_HQ: the resampler librosa's load() uses by default, so
// files at other rates give the samples Hugging Face's users feed the extractor). Output length
// ceil(n * 16000 / rate), as librosa's resample; a 16 kHz input is returned unchanged.
std::vector<float> ResampleTo16k(std::span<const float> samples, int rate, const std::string& what);

// ---- Features (log_mel.cpp) ----
// Gemma4AudioFeatureExtractor.__call__ for one clip of 16 kHz samples: truncate to 480000, pad with
// zeros to a multiple of 128 samples, 160 zeros on the left (semicausal), 321-sample frames every
// 160 (the last sample dropped), periodic Hann (320), |rfft(512)|, 128 HTK mel filters 0-8000 Hz
// (no norm), log(mel + 0.001); a frame is valid when its window's last sample is real audio, and
// invalid frames are zeroed. soft_tokens = the processor's count (the mask after two stride-2
// subsamplings): ceil(valid_frames / 4). Throws when no frame is valid (under ~10 ms of audio).
AudioFeatures LogMelFeatures(std::span<const float> samples_16k, const std::string& what);
// The processor's soft-token count for a clip of `samples` 16 kHz samples (0 when too short).
int SoftTokensForSamples(int64_t samples);
// gemma4_unified's Gemma4UnifiedAudioFeatureExtractor for one clip of 16 kHz samples (raw_frames.cpp):
// the first 30 s (750 soft tokens, the processor's audio_seq_length; HF's unified extractor itself
// does not truncate), zero-padded to a multiple of `samples_per_frame`, cut into rows of that many
// samples; every row valid, one soft token per row (40 ms at 640). Throws on an empty clip.
AudioFeatures RawAudioFrames(std::span<const float> samples_16k, int samples_per_frame, const std::string& what);

// ---- Prompt tokens (audio_tokens.cpp) ----
// The special ids from config.json: boa_token_id, audio_token_id, and eoa_token_index (the
// released configs' spelling; eoa_token_id is read too). A checkpoint without "audio_config" has none.
struct AudioTokenIds {
  int32_t boa = -1;
  int32_t audio = -1;  // one per soft token
  int32_t eoa = -1;
  // The clip's input kind: 0 = log-mel features for a conformer; gemma4_unified: the samples per
  // raw frame (audio_config.audio_embed_dim, 640), one soft token per frame.
  int raw_frame_samples = 0;
};
// Reads config.json in model_dir (a GGUF path: nullopt for now). nullopt when there is no
// audio_config; throws when audio_config is there but an id is missing.
std::optional<AudioTokenIds> ReadAudioTokenIds(const std::filesystem::path& model_dir);

// A run of audio_token_id in a prompt: where one clip's soft tokens go.
struct AudioSpan {
  size_t first = 0;
  uint32_t length = 0;  // = that clip's soft_tokens
};
// Each audio placeholder (a lone audio_token_id, as the chat template writes `<|audio|>`) becomes
// BOA, soft_tokens[i] x audio_token_id, EOA, as Gemma4Processor does. Throws when the number of
// placeholders differs from soft_tokens.size().
std::vector<int32_t> ExpandAudioPlaceholders(std::span<const int32_t> ids, const AudioTokenIds& tokens,
                                             std::span<const uint32_t> soft_tokens);
// The maximal runs of audio_token_id, in order. Throws when their count or lengths differ from the clips'.
std::vector<AudioSpan> FindAudioSpans(std::span<const int32_t> ids, int32_t audio_token_id,
                                      std::span<const AudioFeatures> clips);

}  // namespace audio
}  // namespace vkg
