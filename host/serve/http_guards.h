// What every request meets around the routes (layer: host/serve): the head's checks before the
// body is read (request_policy.h; a refusal closes the connection, whose body is left unread), a
// Connection: close on replies that end their connection, OpenAI-style error bodies for the
// errors httplib answers itself (400, 404, 413 naming --max-body, 414), and a 500 for any
// exception. Shared by HttpServer and the request-to-response fuzz target.
#pragma once
#include <httplib.h>

#include <cstddef>

#include "host/serve/request_policy.h"

namespace vkg::serve {

void InstallRequestGuards(httplib::Server& server, const RequestPolicy& policy, size_t max_body_bytes);

// An error reply: the status and {"error": {...}} (never throws on what the client sent).
void SetError(httplib::Response& res, const ApiError& e);

}  // namespace vkg::serve
