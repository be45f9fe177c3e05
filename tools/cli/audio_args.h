// Audio input for the model commands (layer: tools): the --audio option, loading the clips of a
// prompt (host/audio), the prompt's content parts when clips and images share it, and the one call
// that hands the clips to the engine's audio tower (AttachAudio, audio_engine.cpp).
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "host/audio/audio_input.h"
#include "host/model/config.h"
#include "host/serve/openai_request.h"
#include "host/text/chat_template.h"
#include "tools/cli/options.h"

namespace vkg {
class Engine;
}

namespace vkg::cli {

// --audio FILE (repeatable, in prompt order). images_before[k]: how many --image flags came before
// the k-th --audio (so <__media__> markers take images and clips in command-line order).
struct AudioFlags {
  std::vector<std::string> files;
  std::vector<size_t> images_before;
};
// `image_files` is the ImageFlags::files the same parser fills (read when an --audio is seen).
void AddAudioOptions(OptionParser& parser, AudioFlags* flags, const std::vector<std::string>* image_files);
constexpr const char* kAudioOptionsHelp =
    "  --audio FILE        an audio clip for the prompt (WAV, FLAC, MP3; any rate, mono or\n"
    "                      stereo; the model hears the first 30 s); repeat for several, in order.\n"
    "                      Needs a checkpoint that takes audio (Gemma 4 E2B, E4B, the 12B)\n";

// The clips of one prompt, as features, with the checkpoint's audio token ids.
struct PromptAudio {
  audio::AudioTokenIds tokens;
  std::vector<AudioFeatures> clips;     // in prompt order
  std::vector<audio::AudioSpan> spans;  // where each clip's soft tokens sit in the prompt
};

// The checkpoint's audio token ids, or Error "<model> has no audio tower ..." (`what` names what
// asked: "--audio", "/audio").
audio::AudioTokenIds RequireAudioTower(const std::string& model_dir, const std::string& what);
// RequireAudioTower, then every file decoded (one error line naming the bad one).
PromptAudio LoadPromptAudio(const std::string& model_dir, const std::vector<std::string>& files,
                            const std::string& what);

// A user prompt with images and clips as content parts: each "<__media__>" marker places the next
// medium in command-line order; without markers the media come first (images, clips, in that
// order), then the text. Markers and media must agree in number (UsageError otherwise).
std::vector<ContentPart> MediaPromptParts(const std::string& prompt, size_t images, const AudioFlags& audio);

// The soft-token counts of the clips, in order (for ExpandAudioPlaceholders).
std::vector<uint32_t> AudioSoftTokenCounts(std::span<const AudioFeatures> clips);

// The audio tower's entry point for the CLI: the next evaluation of `prompt` (from the engine's
// n_past onward) uses each clip's soft tokens at its span. Throws vkg::Error when the engine cannot.
void AttachAudio(Engine& engine, std::span<const int32_t> prompt, const PromptAudio& audio);

// `serve`: whether requests may hold input_audio parts (served->audio_tokens: a model with an
// audio tower); otherwise they are refused (400 audio_not_supported) with a reason naming the model.
void ConfigureServedAudio(const ModelConfig& config, serve::ServedModel* served);

}  // namespace vkg::cli
