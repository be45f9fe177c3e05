// Prometheus text exposition of the server's counters (layer: host/serve).
#include "host/serve/metrics.h"

#include <cstdio>
#include <set>

namespace vkg::serve {
namespace {

void Metric(std::string* out, const char* name, const char* type, const char* help, double value) {
  char line[256];
  std::snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, value);
  *out += line;
}

}  // namespace

void RequestCounters::Count(const std::string& endpoint, int status) {
  static const std::set<std::string> kServed = {"/",          "/health",         "/metrics",
                                                "/v1/models", "/v1/completions", "/v1/chat/completions"};
  std::lock_guard lock(mu_);
  ++counts_[{kServed.count(endpoint) ? endpoint : "other", status}];
}

std::map<std::pair<std::string, int>, uint64_t> RequestCounters::snapshot() const {
  std::lock_guard lock(mu_);
  return counts_;
}

std::string PrometheusText(const RequestCounters& requests, const BatchLoopStats& s, int validation_messages) {
  std::string out =
      "# HELP vkgemma_requests_total HTTP requests answered, by endpoint and status code.\n"
      "# TYPE vkgemma_requests_total counter\n";
  for (const auto& [key, count] : requests.snapshot()) {
    out += "vkgemma_requests_total{endpoint=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"} " +
           std::to_string(count) + "\n";
  }
  Metric(&out, "vkgemma_prompt_tokens_total", "counter", "Prompt tokens of admitted sequences (tokens in).",
         double(s.prompt_tokens));
  Metric(&out, "vkgemma_prompt_tokens_reused_total", "counter",
         "Prompt tokens found in a slot's KV cache, not evaluated.", double(s.reused_tokens));
  Metric(&out, "vkgemma_prompt_tokens_evaluated_total", "counter", "Prompt tokens evaluated (prefill).",
         double(s.prefill_tokens));
  Metric(&out, "vkgemma_images_encoded_total", "counter",
         "Images the vision tower encoded (an image found in a slot's cache is not encoded again).",
         double(s.images_encoded));
  Metric(&out, "vkgemma_audio_encoded_total", "counter",
         "Audio clips the audio tower encoded (a clip found in a slot's cache is not encoded again).",
         double(s.audio_encoded));
  Metric(&out, "vkgemma_generated_tokens_total", "counter", "Tokens generated (tokens out).",
         double(s.generated_tokens));
  Metric(&out, "vkgemma_sequences_active", "gauge", "Sequences being prefilled or decoded.", double(s.active));
  Metric(&out, "vkgemma_sequences_queued", "gauge", "Requests waiting for a free slot.", double(s.queued));
  Metric(&out, "vkgemma_sequences_cancelled_total", "counter", "Sequences ended because their client went away.",
         double(s.cancelled));
  Metric(&out, "vkgemma_kv_slots", "gauge", "KV cache slots (--parallel).", double(s.slots));
  Metric(&out, "vkgemma_kv_slots_in_use", "gauge", "KV cache slots running a sequence.", double(s.slots_in_use));
  Metric(&out, "vkgemma_steps_total", "counter", "Batched forward steps.", double(s.steps));
  Metric(&out, "vkgemma_prompt_tokens_per_second", "gauge",
         "Prefill speed since start: prompt tokens evaluated per second of step time spent on them.",
         s.prefill_tokens_per_s());
  Metric(&out, "vkgemma_decode_tokens_per_second", "gauge",
         "Decode speed since start: tokens generated per second of step time spent decoding.", s.decode_tokens_per_s());
  Metric(&out, "vkgemma_validation_messages", "gauge", "Vulkan validation messages seen (validation layers on).",
         double(validation_messages));
  return out;
}

}  // namespace vkg::serve
