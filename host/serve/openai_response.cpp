// Response bodies for the OpenAI endpoints (layer: host/serve).
#include "host/serve/openai_response.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "host/serve/json_text.h"

namespace vkg::serve {
namespace {

using json = nlohmann::json;

bool Chat(const ResponseHeader& h) { return h.endpoint == Endpoint::kChatCompletions; }

json Base(const ResponseHeader& h, bool chunk) {
  return {{"id", h.id},
          {"object", Chat(h) ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion"},
          {"created", h.created},
          {"model", h.model},
          {"system_fingerprint", h.fingerprint}};
}

json Usage(uint32_t prompt, uint32_t completion) {
  return {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
}

json Finish(FinishReason r) {
  if (r == FinishReason::kStop || r == FinishReason::kLength) return FinishReasonName(r);
  return nullptr;
}

std::string Event(const json& j) { return "data: " + JsonText(j) + "\n\n"; }

// One choice of a stream chunk.
json Choice(const ResponseHeader& h, json delta_or_text, json finish) {
  if (Chat(h))
    return {{"index", 0}, {"delta", std::move(delta_or_text)}, {"logprobs", nullptr}, {"finish_reason", finish}};
  return {{"index", 0}, {"text", std::move(delta_or_text)}, {"logprobs", nullptr}, {"finish_reason", finish}};
}

}  // namespace

ResponseHeader NewResponseHeader(Endpoint endpoint, const std::string& model, const std::string& fingerprint) {
  static std::atomic<uint64_t> counter{0};
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const uint64_t n = counter.fetch_add(1) + 1;
  char id[64];
  std::snprintf(id, sizeof id, "%s-%llx%06llu", endpoint == Endpoint::kChatCompletions ? "chatcmpl" : "cmpl",
                static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::microseconds>(now).count()),
                static_cast<unsigned long long>(n % 1000000));
  return {endpoint, id, std::chrono::duration_cast<std::chrono::seconds>(now).count(), model, fingerprint};
}

std::string CompletionJson(const ResponseHeader& h, const std::string& text, FinishReason finish,
                           uint32_t prompt_tokens, uint32_t completion_tokens) {
  json j = Base(h, false);
  json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", Finish(finish)}};
  if (Chat(h)) {
    choice["message"] = {{"role", "assistant"}, {"content", text}};
  } else {
    choice["text"] = text;
  }
  j["choices"] = json::array({choice});
  j["usage"] = Usage(prompt_tokens, completion_tokens);
  return JsonText(j);
}

std::string RoleChunkEvent(const ResponseHeader& h) {
  json j = Base(h, true);
  j["choices"] = json::array({Choice(h, json{{"role", "assistant"}, {"content", ""}}, nullptr)});
  return Event(j);
}

std::string TextChunkEvent(const ResponseHeader& h, const std::string& text) {
  json j = Base(h, true);
  j["choices"] = json::array({Choice(h, Chat(h) ? json{{"content", text}} : json(text), nullptr)});
  return Event(j);
}

std::string FinishChunkEvent(const ResponseHeader& h, FinishReason finish) {
  json j = Base(h, true);
  j["choices"] = json::array({Choice(h, Chat(h) ? json::object() : json(""), Finish(finish))});
  return Event(j);
}

std::string UsageChunkEvent(const ResponseHeader& h, uint32_t prompt_tokens, uint32_t completion_tokens) {
  json j = Base(h, true);
  j["choices"] = json::array();
  j["usage"] = Usage(prompt_tokens, completion_tokens);
  return Event(j);
}

std::string ErrorEvent(const ApiError& e) { return "data: " + ErrorBody(e) + "\n\n"; }

std::string ModelsJson(const std::string& model, int64_t created, uint32_t context) {
  json m = {{"id", model},
            {"object", "model"},
            {"created", created},
            {"owned_by", "vkgemma"},
            {"meta", {{"n_ctx", context}}}};
  return JsonText(json{{"object", "list"}, {"data", json::array({m})}});
}

}  // namespace vkg::serve
