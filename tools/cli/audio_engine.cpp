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

}  // namespace vkg::cli
