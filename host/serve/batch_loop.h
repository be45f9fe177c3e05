// Continuous batching (layer: host/serve): one thread owns the BatchEngine and runs steps for as
// long as there is work. Each step gives every decoding sequence its next token and feeds prompts
// in chunks between decode steps, so a new request starts as soon as a slot is free, without
// waiting for the others to finish. A finished or cancelled sequence frees its slot at once; a
// new prompt goes to the free slot whose cached tokens share the longest prefix with it, and only
// the rest is evaluated (BatchEngine::Truncate, as `vkgemma chat` does with one Engine).
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "host/batch/batch_engine.h"
#include "host/serve/sequence.h"
#include "tokenizer/tokenizer.h"

namespace vkg::serve {

struct BatchLoopOptions {
  uint32_t max_queued = 16;     // requests waiting for a slot at most; more are refused (Submit)
  uint32_t prefill_chunk = 64;  // prompt tokens per slot per step (EngineOptions::batch: the same
                                // chunks `vkgemma run` evaluates, so results match it exactly)
  // Prompt tokens per step over all slots: bounds how long decoding sequences wait while new
  // prompts are read (at least one chunk per step always goes through).
  uint32_t prefill_tokens_per_step = 128;
};

// A snapshot for /metrics.
struct BatchLoopStats {
  uint32_t slots = 0, slots_in_use = 0;  // in use: running a sequence
  uint32_t active = 0, queued = 0;
  uint64_t prompt_tokens = 0;     // prompt tokens of finished and running sequences
  uint64_t reused_tokens = 0;     // prompt tokens not evaluated: found in a slot's cache
  uint64_t prefill_tokens = 0;    // prompt tokens evaluated
  uint64_t generated_tokens = 0;  // sampled tokens
  uint64_t steps = 0;
  uint64_t cancelled = 0;                          // sequences ended because their reader went away
  uint64_t images_encoded = 0;                     // images the vision tower encoded (a reused one is not)
  uint64_t audio_encoded = 0;                      // audio clips the audio tower encoded (likewise)
  double prefill_seconds = 0, decode_seconds = 0;  // step time, split by token share
  double prefill_tokens_per_s() const { return prefill_seconds > 0 ? double(prefill_tokens) / prefill_seconds : 0; }
  double decode_tokens_per_s() const { return decode_seconds > 0 ? double(generated_tokens) / decode_seconds : 0; }
};

class BatchLoop {
 public:
  // `engine` and `tokenizer` must outlive the loop. Starts the loop thread.
  BatchLoop(BatchEngine& engine, const tok::Tokenizer& tokenizer, const BatchLoopOptions& options);
  ~BatchLoop();  // Stop()

  // Queues a request (checked by the caller: prompt non-empty, prompt + max_tokens <= context).
  // nullptr when max_queued requests already wait: the caller answers "busy".
  std::shared_ptr<SequenceStream> Submit(SequenceRequest request);
  // Lets the running and queued sequences finish, then ends the thread. Idempotent.
  void Stop();

  BatchLoopStats stats() const;

 private:
  struct Waiting {
    SequenceRequest request;
    std::shared_ptr<SequenceStream> stream;
  };
  struct Active;
  // Where an image's or audio clip's soft tokens sit in a prompt, and what they are made of.
  struct MediaRun {
    uint32_t start = 0, length = 0;
    uint64_t hash = 0;  // HashImagePixels / HashAudioFeatures
  };
  static std::vector<MediaRun> MediaRuns(const SequenceRequest& request);
  // How many of the first `len` prompt tokens may be reused (MediaAgree in batch_loop.cpp).
  static size_t MediaAgree(size_t len, const std::vector<MediaRun>& prompt, const std::vector<MediaRun>& cached);
  struct Slot {
    std::vector<int32_t> cached;  // the tokens the engine holds for this slot, in order
    // The images and audio clips among them (the last prompt's runs): a run's positions are
    // reused only for the same pixels or recording, not just the same token ids.
    std::vector<MediaRun> cached_media;
    std::unique_ptr<Active> seq;  // running sequence, or none (free)
    uint64_t last_used = 0;       // step of its last sequence's end (least recently used first)
  };

  void Run();
  void Admit(Waiting w);  // to the best free slot (prefix reuse)
  uint32_t ChooseSlot(const SequenceRequest& request, size_t* reused) const;
  // Prompt tokens of the next chunk of `a` (at most prefill_chunk; it ends before a bidirectional
  // image it would cut, as Engine's chunks do).
  size_t NextChunk(const Active& a) const;
  void StepOnce();
  void Sample(uint32_t slot, std::span<const float> logits);
  void End(uint32_t slot, FinishReason reason, const std::string& error = "");

  BatchEngine& engine_;
  const tok::Tokenizer& tokenizer_;
  const BatchLoopOptions options_;

  mutable std::mutex mu_;  // guards queue_, stopping_, stats_ and the slots' in-use flags as read by stats()
  std::condition_variable cv_;
  std::deque<Waiting> queue_;
  bool stopping_ = false;
  BatchLoopStats stats_;

  std::vector<Slot> slots_;      // loop thread only
  uint32_t prefill_cursor_ = 0;  // the slot whose prompt goes first in the next step
  std::thread thread_;
};

}  // namespace vkg::serve
