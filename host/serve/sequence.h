// One generation request as the batch loop runs it, and the channel its tokens come back through
// (layer: host/serve). An HTTP handler thread submits a SequenceRequest and reads its
// SequenceStream; the batch loop thread writes to it.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "host/model/audio_features.h"
#include "host/model/image_patches.h"
#include "host/text/sampler.h"

namespace vkg::serve {

// One image of a prompt: its soft tokens take positions [start, start + length) of the prompt.
// `hash` identifies the preprocessed pixels: two images of the same size give the same token ids,
// so prefix reuse compares hashes too before it keeps an image's cached positions.
struct SequenceImage {
  uint32_t start = 0, length = 0;
  uint64_t hash = 0;
  std::shared_ptr<const ImagePatches> patches;  // what the vision tower takes
};
// The hash of an image's pixels as the tower sees them (FNV-1a over its patch grid and values).
uint64_t HashImagePixels(uint32_t patches_x, uint32_t patches_y, const std::vector<float>& pixels);

// One audio clip of a prompt, as an image: its soft tokens take positions [start, start + length)
// (the run of audio tokens between BOA and EOA); `hash` identifies its features, so prefix reuse
// keeps a clip's cached positions only for the same recording.
struct SequenceAudio {
  uint32_t start = 0, length = 0;
  uint64_t hash = 0;
  std::shared_ptr<const AudioFeatures> clip;  // what the audio tower takes
};
// The hash of a clip's log-mel features (FNV-1a over its frame counts and values; seeded apart
// from HashImagePixels, so a clip and an image never share a hash).
uint64_t HashAudioFeatures(const AudioFeatures& clip);

struct SequenceRequest {
  std::vector<int32_t> prompt;        // the whole prompt, <bos> and template markup included
  std::vector<SequenceImage> images;  // in prompt order (chat requests with image parts)
  std::vector<SequenceAudio> audio;   // in prompt order (chat requests with input_audio parts)
  SamplingParams sampling;
  uint32_t max_tokens = 1;                // generated tokens at most (>= 1; prompt + this <= context)
  std::vector<int32_t> stop_ids;          // end of turn / end of text: ends the reply, not in its text
  std::vector<std::string> stop_strings;  // OpenAI `stop`: the reply ends before the first one
};

enum class FinishReason { kNone, kStop, kLength, kCancelled, kError };
// OpenAI's finish_reason: "stop" or "length" (a cancelled or failed sequence has none).
const char* FinishReasonName(FinishReason r);

// What a reader takes from a stream at once: the text generated since its last take, and the end.
struct SequenceUpdate {
  std::string text;
  FinishReason finish = FinishReason::kNone;  // kNone: still running
  std::string error;                          // kError: why
  uint32_t prompt_tokens = 0, completion_tokens = 0;
  bool done() const { return finish != FinishReason::kNone; }
};

// Thread-safe: the batch loop appends text and finishes; one reader takes. The reader may cancel
// at any time (its client went away); the loop then frees the sequence's slot at its next step.
class SequenceStream {
 public:
  // Reader side. Waits up to `timeout` for new text or the end; returns what there is (possibly
  // nothing: text empty and not done).
  SequenceUpdate Take(std::chrono::milliseconds timeout);
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

  // Loop side.
  void Append(const std::string& text, uint32_t completion_tokens);
  void Finish(FinishReason reason, uint32_t prompt_tokens, uint32_t completion_tokens, std::string error = "");

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_;
  FinishReason finish_ = FinishReason::kNone;
  std::string error_;
  uint32_t prompt_tokens_ = 0, completion_tokens_ = 0;
  std::atomic<bool> cancelled_{false};
};

}  // namespace vkg::serve
