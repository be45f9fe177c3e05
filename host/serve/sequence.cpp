// SequenceStream: the hand-over between the batch loop and an HTTP handler (layer: host/serve).
#include "host/serve/sequence.h"

namespace vkg::serve {

const char* FinishReasonName(FinishReason r) {
  switch (r) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kError: return "error";
    case FinishReason::kNone: break;
  }
  return "";
}

SequenceUpdate SequenceStream::Take(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !pending_.empty() || finish_ != FinishReason::kNone; });
  SequenceUpdate u;
  u.text.swap(pending_);
  u.finish = finish_;
  u.error = error_;
  u.prompt_tokens = prompt_tokens_;
  u.completion_tokens = completion_tokens_;
  return u;
}

void SequenceStream::Append(const std::string& text, uint32_t completion_tokens) {
  {
    std::lock_guard lock(mu_);
    pending_ += text;
    completion_tokens_ = completion_tokens;
  }
  if (!text.empty()) cv_.notify_all();
}

void SequenceStream::Finish(FinishReason reason, uint32_t prompt_tokens, uint32_t completion_tokens,
                            std::string error) {
  {
    std::lock_guard lock(mu_);
    finish_ = reason;
    prompt_tokens_ = prompt_tokens;
    completion_tokens_ = completion_tokens;
    error_ = std::move(error);
  }
  cv_.notify_all();
}

namespace {

// FNV-1a, 64 bits, over raw bytes.
struct Fnv1a {
  uint64_t h = 14695981039346656037ull;
  void Mix(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  }
};

}  // namespace

uint64_t HashImagePixels(uint32_t patches_x, uint32_t patches_y, const std::vector<float>& pixels) {
  Fnv1a f;
  f.Mix(&patches_x, sizeof patches_x);
  f.Mix(&patches_y, sizeof patches_y);
  f.Mix(pixels.data(), pixels.size() * sizeof(float));
  return f.h;
}

uint64_t HashAudioFeatures(const AudioFeatures& clip) {
  Fnv1a f;
  f.Mix("audio", 5);
  f.Mix(&clip.frames, sizeof clip.frames);
  f.Mix(&clip.valid_frames, sizeof clip.valid_frames);
  f.Mix(clip.mel.data(), clip.mel.size() * sizeof(float));
  return f.h;
}

}  // namespace vkg::serve
