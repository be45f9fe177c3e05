// The OpenAI-compatible HTTP/1.1 server (layer: host/serve, on Debian's cpp-httplib, kept out of
// this header): /v1/chat/completions, /v1/completions, /v1/models, /health, /metrics and the chat
// page at /. Requests are checked (openai_request.h) before they reach the batch loop, so a bad
// one costs nothing but its answer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "host/serve/batch_loop.h"
#include "host/serve/openai_request.h"

namespace vkg::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";   // loopback unless told otherwise
  int port = 8080;                  // 0: any free port (Bind returns it)
  std::string api_key;              // non-empty: /v1/* need "Authorization: Bearer <key>"
  size_t max_body_bytes = 4 << 20;  // larger bodies: 413
  uint32_t threads = 32;            // connections served at once
  std::string fingerprint;          // system_fingerprint of every response
};

class HttpServer {
 public:
  // `model` and `loop` must outlive the server; validation_messages() feeds /metrics.
  HttpServer(const ServedModel& model, BatchLoop& loop, std::function<int()> validation_messages,
             const ServerOptions& options);
  ~HttpServer();

  // Binds the listening socket; returns the port. Throws vkg::Error when it cannot.
  int Bind();
  // Serves until Stop(); returns once every connection is closed.
  void Run();
  // Refuses new generation requests (503), lets those in flight finish (streams too), then stops
  // listening. Safe from any thread; returns at once (Run returns when it is done).
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vkg::serve
