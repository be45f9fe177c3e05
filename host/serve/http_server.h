// The OpenAI-compatible HTTP/1.1 server (layer: host/serve, on cpp-httplib 0.18.7 with the
// connection handling of guarded_server.h): /v1/chat/completions, /v1/completions, /v1/models, /health, /metrics and the chat
// page at /. Requests are checked (openai_request.h) before they reach the batch loop, so a bad
// one costs nothing but its answer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <chrono>
#include <vector>

#include "host/serve/batch_loop.h"
#include "host/serve/connection_limits.h"
#include "host/serve/openai_request.h"

namespace vkg::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";                   // loopback unless told otherwise
  int port = 8080;                                  // 0: any free port (Bind returns it)
  std::string api_key;                              // non-empty: /v1/* and /metrics need "Authorization: Bearer <key>"
  size_t max_body_bytes = 4 << 20;                  // larger bodies (Content-Length or chunked): 413
  size_t max_connections = 1024;                    // open at once; the next is answered 503 and closed
  ConnectionLimits limits;                          // whole-request deadline, keep-alive idle time, head size
  std::chrono::milliseconds shutdown_grace{30000};  // Stop(): streams in flight get this long
  std::vector<std::string> allowed_hosts;           // Host names besides localhost and --host
  std::string cors_origin;                          // a browser origin allowed cross-origin ("*": any)
  std::string fingerprint;                          // system_fingerprint of every response
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
  // Stops listening, closes idle connections and those still sending a request at once, refuses
  // new generation requests on open ones (503), lets those in flight finish (streams too) for up
  // to shutdown_grace, then closes what is left. Safe from any thread; returns at once (Run
  // returns when every connection is closed).
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vkg::serve
