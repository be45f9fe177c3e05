// Checks of audio clips and of a prompt's audio-token runs (layer: host/model).
#include "host/model/audio_prompt.h"

#include "host/error.h"

namespace vkg {
namespace {

size_t Sz(int64_t a, int64_t b = 1) { return size_t(a) * size_t(b); }

}  // namespace

void CheckAudioFeatures(const AudioFeatures& clip, const std::string& what) {
  if (clip.frames <= 0 || clip.valid_frames <= 0 || clip.valid_frames > clip.frames) {
    throw Error(what + ": " + std::to_string(clip.valid_frames) + " valid frames of " + std::to_string(clip.frames) +
                " (expected 0 < valid <= frames)");
  }
  if (clip.width <= 0 || clip.mel.size() != Sz(clip.frames, clip.width)) {
    throw Error(what + ": " + std::to_string(clip.mel.size()) + (clip.raw_frames() ? " samples" : " mel values") +
                " for " + std::to_string(clip.frames) + " frames of " + std::to_string(clip.width) +
                (clip.raw_frames() ? "" : " bins"));
  }
  // Raw frames (gemma4_unified): one soft token per frame; log-mel: one per 4 frames (40 ms).
  const int soft = clip.raw_frames() ? clip.valid_frames : AudioConfig::SoftTokens(clip.valid_frames);
  if (clip.soft_tokens != soft) {
    throw Error(what + ": " + std::to_string(clip.valid_frames) + " valid frames make " + std::to_string(soft) +
                " soft tokens, not " + std::to_string(clip.soft_tokens));
  }
}

void CheckAudioFeaturesFit(const MultimodalConfig& mm, const AudioFeatures& clip, const std::string& what) {
  CheckAudioFeatures(clip, what);
  const int want = mm.audio_unified ? mm.unified_audio.audio_embed_dim : AudioFeatures::kMelBins;
  if (clip.width != want || clip.raw_frames() != mm.audio_unified) {
    throw Error(what + " has " + std::to_string(clip.width) + " values per frame, but this model takes " +
                (mm.audio_unified ? "raw frames of " + std::to_string(want) + " samples" : "128-bin log-mel frames"));
  }
}

std::vector<ImageSpan> FindAudioSpans(std::span<const int32_t> tokens, int audio_token_id) {
  return FindImageSpans(std::vector<int32_t>(tokens.begin(), tokens.end()), audio_token_id);
}

void CheckAudioPrompt(const ModelConfig& config, std::span<const int32_t> tokens,
                      const std::vector<AudioFeatures>& clips) {
  if (clips.empty()) return;
  if (!config.mm.has_audio) {
    throw Error("this model has no audio tower (its config.json has no audio_config): it cannot take audio");
  }
  for (size_t i = 0; i < clips.size(); ++i)
    CheckAudioFeaturesFit(config.mm, clips[i], "audio clip " + std::to_string(i + 1));
  const std::vector<ImageSpan> spans = FindAudioSpans(tokens, config.mm.audio_token_id);
  auto plural = [](size_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); };
  if (spans.size() != clips.size()) {
    throw Error("the prompt has " + plural(spans.size(), "audio-token run") + " but " +
                plural(clips.size(), "audio clip") + (clips.size() == 1 ? " was" : " were") + " given");
  }
  for (size_t i = 0; i < spans.size(); ++i) {
    if (clips[i].soft_tokens != spans[i].length) {
      throw Error("audio clip " + std::to_string(i + 1) + " makes " + std::to_string(clips[i].soft_tokens) +
                  " soft tokens but its run in the prompt has " + std::to_string(spans[i].length) + " audio tokens");
    }
  }
}

}  // namespace vkg
