// AttachAudio: where the CLI hands a prompt's clips to the engine's audio tower (layer: tools).
// Each clip whose soft tokens lie in the part of the prompt the engine has not evaluated yet (from
// n_past on) goes to Engine::AttachAudio as log-mel features; the next Forward encodes it and
// places its soft tokens (each maximal run of audio_token_id takes the next clip). Clips before
// n_past are in the cache already (a conversation re-sends its earlier clips): not encoded again.
#include <utility>

#include "host/error.h"
#include "host/runtime/engine.h"
#include "tools/cli/audio_args.h"

namespace vkg::cli {

void AttachAudio(Engine& engine, std::span<const int32_t> prompt, const PromptAudio& audio) {
  (void)prompt;
  const size_t n_past = engine.n_past();
  std::vector<AudioFeatures> pending;
  for (size_t i = 0; i < audio.clips.size(); ++i) {
    const audio::AudioSpan& span = audio.spans.at(i);
    if (span.first + span.length <= n_past) continue;  // already in the cache
    if (span.first < n_past) {
      throw Error("audio clip " + std::to_string(i + 1) + " is partly in the cache already; start the prompt again");
    }
    pending.push_back(audio.clips[i]);
  }
  engine.AttachAudio(std::move(pending));
}

void ConfigureServedAudio(const ModelConfig& config, serve::ServedModel* served) {
  if (!config.mm.has_audio) {
    served->no_audio_reason = "the served model (" + served->id +
                              ") takes no audio: it has no audio tower (no audio_config in its config.json)";
    return;
  }
  // The loaded config's ids: config.json's boa_token_id, audio_token_id, eoa_token_index.
  served->audio_tokens = audio::AudioTokenIds{config.mm.boa_token_id, config.mm.audio_token_id, config.mm.eoa_token_id};
}

}  // namespace vkg::cli
