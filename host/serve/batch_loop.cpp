// The continuous batching loop (layer: host/serve).
#include "host/serve/batch_loop.h"

#include <algorithm>
#include <cstdio>
#include <exception>

#include "host/error.h"
#include "host/serve/stop_strings.h"

namespace vkg::serve {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

std::vector<BatchLoop::MediaRun> BatchLoop::MediaRuns(const SequenceRequest& request) {
  std::vector<MediaRun> runs;
  for (const SequenceImage& im : request.images) runs.push_back({im.start, im.length, im.hash});
  for (const SequenceAudio& a : request.audio) runs.push_back({a.start, a.length, a.hash});
  return runs;
}

// Each image or clip wholly inside the kept prefix must be the same (start, length and hash) on
// both sides, and none may be cut by the prefix's end; else the prefix ends where that run starts.
size_t BatchLoop::MediaAgree(size_t len, const std::vector<MediaRun>& prompt, const std::vector<MediaRun>& cached) {
  for (;;) {
    size_t cut = len;
    for (const auto* list : {&prompt, &cached}) {
      const auto* other = list == &prompt ? &cached : &prompt;
      for (const MediaRun& m : *list) {
        if (m.start >= cut) continue;
        const bool whole = size_t(m.start) + m.length <= cut;
        const auto same = std::find_if(other->begin(), other->end(), [&](const MediaRun& o) {
          return o.start == m.start && o.length == m.length && o.hash == m.hash;
        });
        if (!whole || same == other->end()) cut = m.start;
      }
    }
    if (cut == len) return len;
    len = cut;
  }
}

// A running sequence: its own sampler, text decoder and stop strings.
struct BatchLoop::Active {
  Active(Waiting w, const tok::Tokenizer& tokenizer, size_t reused)
      : request(std::move(w.request)),
        stream(std::move(w.stream)),
        sampler(request.sampling),
        decoder(tokenizer),
        stops(request.stop_strings),
        prefilled(reused) {
    sampler.Accept(request.prompt);  // the repetition penalty sees the whole prompt, as in Generate
  }
  bool decoding() const { return prefilled == request.prompt.size(); }

  SequenceRequest request;
  std::shared_ptr<SequenceStream> stream;
  Sampler sampler;
  tok::StreamDecoder decoder;
  StopStrings stops;
  size_t prefilled;   // prompt tokens the slot holds
  int32_t next = -1;  // the sampled token to evaluate in the next step
  uint32_t generated = 0;
};

BatchLoop::BatchLoop(BatchEngine& engine, const tok::Tokenizer& tokenizer, const BatchLoopOptions& options)
    : engine_(engine), tokenizer_(tokenizer), options_(options), slots_(engine.slots()) {
  stats_.slots = engine.slots();
  thread_ = std::thread([this] { Run(); });
}

BatchLoop::~BatchLoop() { Stop(); }

std::shared_ptr<SequenceStream> BatchLoop::Submit(SequenceRequest request) {
  auto stream = std::make_shared<SequenceStream>();
  {
    std::lock_guard lock(mu_);
    const size_t free_slots = stats_.slots - stats_.slots_in_use;
    if (stopping_ || queue_.size() >= options_.max_queued + free_slots) return nullptr;
    queue_.push_back({std::move(request), stream});
    stats_.queued = uint32_t(queue_.size());
  }
  cv_.notify_all();
  return stream;
}

void BatchLoop::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

BatchLoopStats BatchLoop::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void BatchLoop::Run() {
  for (;;) {
    std::vector<Waiting> admit;
    const bool busy = std::any_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.seq != nullptr; });
    {
      std::unique_lock lock(mu_);
      if (!busy) {
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) break;  // stopping, nothing left to do
      }
      uint32_t free_slots = stats_.slots - stats_.slots_in_use;
      while (!queue_.empty() && free_slots > 0) {
        admit.push_back(std::move(queue_.front()));
        queue_.pop_front();
        if (!admit.back().stream->cancelled()) --free_slots;
      }
      stats_.queued = uint32_t(queue_.size());
    }
    for (Waiting& w : admit) {
      if (w.stream->cancelled()) {  // its client left while it waited
        w.stream->Finish(FinishReason::kCancelled, uint32_t(w.request.prompt.size()), 0);
        std::lock_guard lock(mu_);
        ++stats_.cancelled;
        continue;
      }
      Admit(std::move(w));
    }
    StepOnce();
  }
}

uint32_t BatchLoop::ChooseSlot(const SequenceRequest& request, size_t* reused) const {
  const std::vector<int32_t>& prompt = request.prompt;
  uint32_t best = 0;
  bool found = false;
  size_t best_len = 0;
  const std::vector<MediaRun> media = MediaRuns(request);
  for (uint32_t s = 0; s < slots_.size(); ++s) {
    const Slot& slot = slots_[s];
    if (slot.seq) continue;
    // At least the prompt's last token is evaluated: its logits give the first reply token.
    const size_t limit = std::min(slot.cached.size(), prompt.size() - 1);
    size_t len = 0;
    while (len < limit && slot.cached[len] == prompt[len]) ++len;
    len = MediaAgree(len, media, slot.cached_media);
    if (!found || len > best_len || (len == best_len && slot.last_used < slots_[best].last_used)) {
      best = s, best_len = len, found = true;
    }
  }
  if (!found) throw Error("no free slot (the loop admitted more sequences than slots)");
  *reused = best_len;
  return best;
}

void BatchLoop::Admit(Waiting w) {
  size_t reused = 0;
  const uint32_t s = ChooseSlot(w.request, &reused);
  Slot& slot = slots_[s];
  if (reused == 0) {
    if (engine_.n_past(s) > 0) engine_.Reset(s);
  } else if (reused < slot.cached.size() && !engine_.Truncate(s, uint32_t(reused))) {
    engine_.Reset(s);  // a sliding window ring no longer holds the prefix
    reused = 0;
  }
  slot.cached.resize(reused);
  // The images and clips past the reused prefix go through their towers now; those inside it are
  // in the cache already (a conversation re-sending its earlier images and recordings).
  std::vector<BatchEngine::SlotImage> images;
  for (const SequenceImage& im : w.request.images) {
    if (im.start >= reused) images.push_back({im.start, *im.patches});
  }
  std::vector<BatchEngine::SlotAudio> audio;
  for (const SequenceAudio& a : w.request.audio) {
    if (a.start >= reused) audio.push_back({a.start, *a.clip});
  }
  try {
    engine_.AttachMedia(s, std::move(images), std::move(audio));
  } catch (const std::exception& e) {
    engine_.Reset(s);
    slot.cached.clear();
    slot.cached_media.clear();
    w.stream->Finish(FinishReason::kError, uint32_t(w.request.prompt.size()), 0, e.what());
    return;
  }
  slot.cached_media = MediaRuns(w.request);
  for (SequenceAudio& a : w.request.audio) a.clip.reset();  // encoded: its soft tokens are the slot's
  const size_t prompt_tokens = w.request.prompt.size();
  slot.seq = std::make_unique<Active>(std::move(w), tokenizer_, reused);
  std::lock_guard lock(mu_);
  ++stats_.slots_in_use;
  ++stats_.active;
  stats_.prompt_tokens += prompt_tokens;
  stats_.reused_tokens += reused;
  stats_.images_encoded = engine_.images_encoded();
  stats_.audio_encoded = engine_.audio_encoded();
}

size_t BatchLoop::NextChunk(const Active& a) const {
  const size_t done = a.prefilled;
  size_t n = std::min<size_t>(options_.prefill_chunk, a.request.prompt.size() - done);
  if (engine_.config().mm.bidirectional_vision) {
    for (const SequenceImage& im : a.request.images) {
      const size_t s0 = im.start, s1 = s0 + im.length;
      if (s0 > done && s0 < done + n && s1 > done + n) n = s0 - done;
    }
  }
  return n;
}

void BatchLoop::StepOnce() {
  for (uint32_t s = 0; s < slots_.size(); ++s) {
    if (slots_[s].seq && slots_[s].seq->stream->cancelled()) End(s, FinishReason::kCancelled);
  }
  // Decoding sequences first (one token each), then prompt chunks within the step's budget.
  std::vector<BatchEngine::SlotInput> inputs;
  std::vector<bool> prefill;
  size_t prefill_tokens = 0, decode_tokens = 0;
  for (uint32_t s = 0; s < slots_.size(); ++s) {
    const Active* a = slots_[s].seq.get();
    if (!a || !a->decoding()) continue;
    inputs.push_back({s, std::span<const int32_t>(&a->next, 1)});
    prefill.push_back(false);
    ++decode_tokens;
  }
  // Prompts in the order they arrived would need a timestamp; the slot after the last one served
  // goes first instead, so no prompt waits behind the others for ever.
  const uint32_t first = prefill_cursor_;
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    const uint32_t s = uint32_t((first + i) % slots_.size());
    const Active* a = slots_[s].seq.get();
    if (!a || a->decoding()) continue;
    const size_t n = NextChunk(*a);
    if (prefill_tokens > 0 && prefill_tokens + n > options_.prefill_tokens_per_step) break;
    inputs.push_back({s, std::span<const int32_t>(a->request.prompt.data() + a->prefilled, n)});
    prefill.push_back(true);
    prefill_tokens += n;
    prefill_cursor_ = s + 1;
  }
  if (inputs.empty()) return;

  const auto t0 = Clock::now();
  std::vector<std::vector<float>> logits;
  try {
    logits = engine_.Step(inputs);
  } catch (const std::exception& e) {
    // Cannot happen for requests that were checked; never leave a slot in a state we cannot describe.
    std::fprintf(stderr, "vkgemma serve: a step failed: %s\n", e.what());
    for (const auto& in : inputs) {
      engine_.Reset(in.slot);
      slots_[in.slot].cached.clear();
      slots_[in.slot].cached_media.clear();
      if (slots_[in.slot].seq) End(in.slot, FinishReason::kError, e.what());
    }
    return;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  {
    std::lock_guard lock(mu_);
    ++stats_.steps;
    stats_.prefill_tokens += prefill_tokens;
    const double share = double(prefill_tokens) / double(prefill_tokens + decode_tokens);
    stats_.prefill_seconds += seconds * share;
    stats_.decode_seconds += seconds * (1.0 - share);
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const uint32_t s = inputs[i].slot;
    Slot& slot = slots_[s];
    slot.cached.insert(slot.cached.end(), inputs[i].tokens.begin(), inputs[i].tokens.end());
    if (prefill[i]) {
      slot.seq->prefilled += inputs[i].tokens.size();
      if (!slot.seq->decoding()) continue;  // more of the prompt to read
    }
    Sample(s, logits[i]);
  }
}

void BatchLoop::Sample(uint32_t s, std::span<const float> logits) {
  Active& a = *slots_[s].seq;
  const int32_t id = a.sampler.Sample(logits);
  a.sampler.AcceptGenerated(id);
  ++a.generated;
  {
    std::lock_guard lock(mu_);
    ++stats_.generated_tokens;
  }
  const bool stop_token =
      std::find(a.request.stop_ids.begin(), a.request.stop_ids.end(), id) != a.request.stop_ids.end();
  std::string text = stop_token ? "" : a.stops.Push(a.decoder.Push(id));
  if (a.stops.stopped() || stop_token) {
    if (stop_token) text += a.stops.Push(a.decoder.Finish()) + a.stops.Flush();
    a.stream->Append(text, a.generated);
    End(s, FinishReason::kStop);
    return;
  }
  const bool full = engine_.n_past(s) >= engine_.context();
  if (a.generated >= a.request.max_tokens || full) {
    text += a.stops.Push(a.decoder.Finish());
    const bool stopped = a.stops.stopped();
    text += a.stops.Flush();
    a.stream->Append(text, a.generated);
    End(s, stopped ? FinishReason::kStop : FinishReason::kLength);
    return;
  }
  a.stream->Append(text, a.generated);
  a.next = id;
}

void BatchLoop::End(uint32_t s, FinishReason reason, const std::string& error) {
  Slot& slot = slots_[s];
  std::unique_ptr<Active> a = std::move(slot.seq);
  {
    // The slot is free before the reader learns the end: a client that has its answer sees the
    // slot released in /metrics.
    std::lock_guard lock(mu_);
    slot.last_used = stats_.steps;
    --stats_.slots_in_use;
    --stats_.active;
    if (reason == FinishReason::kCancelled) ++stats_.cancelled;
  }
  a->stream->Finish(reason, uint32_t(a->request.prompt.size()), a->generated, error);
  cv_.notify_all();
}

}  // namespace vkg::serve
