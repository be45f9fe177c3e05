// OpenAI API responses (layer: host/serve): the JSON of a whole completion, of each streamed
// chunk (server-sent events: "data: {json}\n\n", then "data: [DONE]\n\n"), and of /v1/models.
#pragma once
#include <cstdint>
#include <string>

#include "host/serve/openai_request.h"
#include "host/serve/sequence.h"

namespace vkg::serve {

// What every response of one request repeats.
struct ResponseHeader {
  Endpoint endpoint = Endpoint::kChatCompletions;
  std::string id;           // "chatcmpl-..." or "cmpl-..."
  int64_t created = 0;      // Unix seconds
  std::string model;        // the served model's id
  std::string fingerprint;  // system_fingerprint: the build ("vkgemma-<commit>")
};

// A new header: a unique id for the endpoint, the time now.
ResponseHeader NewResponseHeader(Endpoint endpoint, const std::string& model, const std::string& fingerprint);

// stream false: the whole reply.
std::string CompletionJson(const ResponseHeader& h, const std::string& text, FinishReason finish,
                           uint32_t prompt_tokens, uint32_t completion_tokens);
// stream true: one event. A chat stream's first chunk carries the role (role_chunk); text chunks
// the text; the last one an empty delta and the finish reason.
std::string RoleChunkEvent(const ResponseHeader& h);
std::string TextChunkEvent(const ResponseHeader& h, const std::string& text);
std::string FinishChunkEvent(const ResponseHeader& h, FinishReason finish);
// stream_options.include_usage: after the finish chunk, one with no choices and the usage.
std::string UsageChunkEvent(const ResponseHeader& h, uint32_t prompt_tokens, uint32_t completion_tokens);
// An error in the middle of a stream (the status line is already sent).
std::string ErrorEvent(const ApiError& e);
constexpr const char* kDoneEvent = "data: [DONE]\n\n";

std::string ModelsJson(const std::string& model, int64_t created, uint32_t context);

}  // namespace vkg::serve
