// Audio clips in a prompt: checks of a clip against the tower and of the prompt's runs of
// audio_token_id against the clips (layer: host/model, CPU only). docs/model.md §5.6.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "host/model/audio_features.h"
#include "host/model/config.h"
#include "host/model/image_patches.h"  // ImageSpan, FindImageSpans

namespace vkg {

// Throws vkg::Error (naming `what`, e.g. "audio clip 1") unless mel holds frames x 128 values,
// 0 < valid_frames <= frames, and soft_tokens is what the tower makes of valid_frames
// (AudioConfig::SoftTokens: one per 4 frames, 40 ms).
void CheckAudioFeatures(const AudioFeatures& clip, const std::string& what);
// CheckAudioFeatures, and the clip is of the kind the model takes: log-mel frames for a conformer,
// raw frames of audio_embed_dim samples for gemma4_unified ("audio clip 1 has 128 values per frame,
// but this model takes raw frames of 640 samples").
void CheckAudioFeaturesFit(const MultimodalConfig& mm, const AudioFeatures& clip, const std::string& what);

// The runs of audio_token_id in tokens, in order: each run is one clip (BOA / EOA separate clips).
std::vector<ImageSpan> FindAudioSpans(std::span<const int32_t> tokens, int audio_token_id);

// Checks a prompt with audio against the model before anything runs: an audio tower, every clip
// valid (CheckAudioFeatures), one run of audio tokens per clip of its soft-token count:
// "audio clip 2 makes 33 soft tokens but its run in the prompt has 30 audio tokens".
void CheckAudioPrompt(const ModelConfig& config, std::span<const int32_t> tokens,
                      const std::vector<AudioFeatures>& clips);

}  // namespace vkg
