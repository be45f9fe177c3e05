// What a request's head must satisfy before its body is read or a handler runs (layer:
// host/serve): unambiguous framing, a Host naming this server, no foreign Origin, a JSON
// Content-Type on POSTs, and the API key. Plain strings in, an ApiError out: no sockets, so the
// rules are tested alone (tests/serve/request_policy_test.cpp) and fuzzed (tests/fuzz).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "host/serve/openai_request.h"

namespace vkg::serve {

struct RequestPolicy {
  std::string api_key;  // non-empty: /v1/* and /metrics need "Authorization: Bearer <key>"
  // Host names or addresses besides localhost, 127.0.0.1, ::1 and `bound_host`; "*": any host.
  std::vector<std::string> allowed_hosts;
  std::string bound_host;  // --host (0.0.0.0 / ::: any address literal, names still checked)
  // An origin (scheme://host[:port]) whose pages may call the API cross-origin, "*" for any; empty:
  // only same-origin requests (the chat page at /).
  std::string cors_origin;
};

struct RequestHead {
  std::string method, path;
  std::vector<std::pair<std::string, std::string>> headers;  // as received, names in any case
};

// What to do with a request: refuse it (error set; the connection then closes if a body may be
// left unread), or answer a CORS preflight (preflight set), or go on. allow_origin: the value of
// Access-Control-Allow-Origin for the reply (cross-origin requests --cors-origin allows).
struct PolicyVerdict {
  std::optional<ApiError> error;
  bool preflight = false;
  std::string allow_origin;
};

PolicyVerdict CheckRequestHead(const RequestHead& head, const RequestPolicy& policy);

// The API key check in time independent of where the first difference is.
bool KeyMatches(std::string_view given, std::string_view key);

}  // namespace vkg::serve
