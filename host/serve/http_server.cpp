// HTTP routes and streaming for `vkgemma serve` (layer: host/serve).
#include "host/serve/http_server.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "host/error.h"
#include "host/serve/chat_page.h"
#include "host/serve/guarded_server.h"
#include "host/serve/http_guards.h"
#include "host/serve/metrics.h"
#include "host/serve/openai_response.h"
#include "host/serve/request_policy.h"

namespace vkg::serve {
namespace {

using Clock = std::chrono::steady_clock;

// A streamed reply's state, shared by the content provider calls.
struct StreamState {
  std::shared_ptr<SequenceStream> stream;
  ResponseHeader header;
  bool include_usage = false;
  bool started = false;
  Clock::time_point last_write = Clock::now();
};

}  // namespace

struct HttpServer::Impl {
  Impl(const ServedModel& m, BatchLoop& l, std::function<int()> v, const ServerOptions& o)
      : model(m),
        loop(l),
        validation_messages(std::move(v)),
        options(o),
        server(o.max_connections, o.limits),
        created(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                    .count()) {}

  const ServedModel& model;
  BatchLoop& loop;
  std::function<int()> validation_messages;
  ServerOptions options;
  GuardedServer server;
  int64_t created;
  RequestCounters counters;

  // Generation requests in flight (a stream counts until its last byte is sent).
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  bool draining = false;
  std::thread stopper;

  static void Error(httplib::Response& res, const ApiError& e) {
    res.status = e.status;
    res.set_content(ErrorBody(e), "application/json");
  }

  // Counts a generation request in; false (and a 503) while the server drains.
  bool Enter(httplib::Response& res) {
    std::lock_guard lock(mu);
    if (draining) {
      res.set_header("Retry-After", "5");
      Error(res, ApiError(503, "the server is shutting down", "server_error", "shutting_down"));
      return false;
    }
    ++in_flight;
    return true;
  }
  void Leave() {
    std::lock_guard lock(mu);
    --in_flight;
    cv.notify_all();
  }

  void Generate(Endpoint endpoint, const httplib::Request& req, httplib::Response& res) {
    ParsedRequest parsed;
    try {
      parsed = ParseRequest(endpoint, req.body, model);
    } catch (const ApiError& e) {
      Error(res, e);
      return;
    }
    if (!parsed.ignored_fields.empty()) {
      // Accepted, not refused, as llama-server and vLLM do; said in a header and the log.
      std::string names;
      for (const std::string& f : parsed.ignored_fields) names += (names.empty() ? "" : ", ") + f;
      res.set_header("X-Vkgemma-Ignored-Fields", names);
      std::fprintf(stderr, "vkgemma serve: %s %s: ignored unknown fields: %s\n", req.method.c_str(), req.path.c_str(),
                   names.c_str());
    }
    if (!Enter(res)) return;
    const uint32_t prompt_tokens = uint32_t(parsed.sequence.prompt.size());
    std::shared_ptr<SequenceStream> stream = loop.Submit(std::move(parsed.sequence));
    if (!stream) {
      Leave();
      res.set_header("Retry-After", "1");
      Error(res, ApiError(503, "every slot is busy and the queue is full; retry later", "server_error", "queue_full"));
      return;
    }
    const ResponseHeader header = NewResponseHeader(endpoint, model.id, options.fingerprint);
    if (parsed.stream) {
      RespondStreaming(res, stream, header, parsed.include_usage);
    } else {
      RespondWhole(req, res, *stream, header, prompt_tokens);
    }
  }

  // stream: false. Nothing is written until the end, so the client's leaving is noticed by asking
  // its socket (httplib's is_connection_closed: a peek; a pipelined request waiting reads as open).
  void RespondWhole(const httplib::Request& req, httplib::Response& res, SequenceStream& stream,
                    const ResponseHeader& header, uint32_t prompt_tokens) {
    std::string text;
    for (;;) {
      SequenceUpdate u = stream.Take(std::chrono::milliseconds(200));
      text += u.text;
      if (!u.done()) {
        if (!req.is_connection_closed()) continue;
        stream.Cancel();  // the client went away: free its slot now, not at max_tokens
        // nginx's "client closed request", for the log and /metrics (no one reads the body).
        Error(res, ApiError(499, "the client closed the connection", "invalid_request_error", "client_closed"));
        break;
      }
      if (u.finish == FinishReason::kError) {
        Error(res, ApiError(500, "generation failed: " + u.error, "server_error", "generation_failed"));
      } else {
        res.set_content(CompletionJson(header, text, u.finish, prompt_tokens, u.completion_tokens), "application/json");
      }
      break;
    }
    Leave();
  }

  // stream: true. Server-sent events as the text comes, written by httplib's thread; Leave() when
  // the response ends.
  void RespondStreaming(httplib::Response& res, std::shared_ptr<SequenceStream> stream, const ResponseHeader& header,
                        bool include_usage) {
    auto state = std::make_shared<StreamState>();
    state->stream = std::move(stream);
    state->header = header;
    state->include_usage = include_usage;
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");  // nginx: pass events on as they come
    res.set_chunked_content_provider(
        "text/event-stream", [state](size_t, httplib::DataSink& sink) { return WriteEvents(*state, sink); },
        [this, state](bool success) {
          if (!success) state->stream->Cancel();
          Leave();
        });
  }

  // One call of the chunked content provider: waits for the next events and writes them; false
  // when the client went away.
  static bool WriteEvents(StreamState& state, httplib::DataSink& sink) {
    for (;;) {
      std::string out;
      if (!state.started) {
        state.started = true;
        if (state.header.endpoint == Endpoint::kChatCompletions) out = RoleChunkEvent(state.header);
      }
      SequenceUpdate u = state.stream->Take(std::chrono::milliseconds(out.empty() ? 250 : 0));
      if (!u.text.empty()) out += TextChunkEvent(state.header, u.text);
      if (u.done()) {
        if (u.finish == FinishReason::kError) {
          out += ErrorEvent(ApiError(500, "generation failed: " + u.error, "server_error", "generation_failed"));
        } else {
          out += FinishChunkEvent(state.header, u.finish);
          if (state.include_usage) out += UsageChunkEvent(state.header, u.prompt_tokens, u.completion_tokens);
        }
        out += kDoneEvent;
      }
      // A comment line now and then: the only way to notice a client that left while the
      // sequence is still reading its prompt.
      if (out.empty() && Clock::now() - state.last_write > std::chrono::seconds(1)) out = ": keep-alive\n\n";
      if (out.empty()) continue;
      if (!sink.write(out.data(), out.size())) {
        state.stream->Cancel();  // the client went away: free its slot
        return false;
      }
      state.last_write = Clock::now();
      if (u.done()) sink.done();
      return true;
    }
  }

  // Every route: marks the request received (GuardedServer), and turns any exception into a 500
  // for this request: nothing a client sends ends the process.
  template <class F>
  httplib::Server::Handler Route(F f) {
    return [f](const httplib::Request& req, httplib::Response& res) {
      GuardedServer::EnterHandler();
      try {
        f(req, res);
      } catch (const ApiError& e) {
        Error(res, e);
      } catch (const std::exception& e) {
        Error(res, ApiError(500, std::string("internal error: ") + e.what(), "server_error", "internal_error"));
      } catch (...) {
        Error(res, ApiError(500, "internal error", "server_error", "internal_error"));
      }
    };
  }

  RequestPolicy Policy() const {
    RequestPolicy p;
    p.api_key = options.api_key;
    p.allowed_hosts = options.allowed_hosts;
    p.bound_host = options.host;
    p.cors_origin = options.cors_origin;
    return p;
  }

  void Routes() {
    server.Get("/", Route([](const httplib::Request&, httplib::Response& res) {
                 const std::string_view page = ChatPageHtml();
                 res.set_content(page.data(), page.size(), "text/html; charset=utf-8");
               }));
    server.Get("/health", Route([](const httplib::Request&, httplib::Response& res) {
                 res.set_content(R"({"status":"ok"})", "application/json");
               }));
    server.Get("/metrics", Route([this](const httplib::Request&, httplib::Response& res) {
                 res.set_content(PrometheusText(counters, loop.stats(), validation_messages()),
                                 "text/plain; version=0.0.4");
               }));
    server.Get("/v1/models", Route([this](const httplib::Request&, httplib::Response& res) {
                 res.set_content(ModelsJson(model.id, created, model.context), "application/json");
               }));
    server.Post("/v1/chat/completions", Route([this](const httplib::Request& req, httplib::Response& res) {
                  Generate(Endpoint::kChatCompletions, req, res);
                }));
    server.Post("/v1/completions", Route([this](const httplib::Request& req, httplib::Response& res) {
                  Generate(Endpoint::kCompletions, req, res);
                }));
    InstallRequestGuards(server, Policy(), options.max_body_bytes);
    server.set_logger(
        [this](const httplib::Request& req, const httplib::Response& res) { counters.Count(req.path, res.status); });
    server.set_payload_max_length(options.max_body_bytes);
    server.set_keep_alive_timeout(std::max<int64_t>(1, options.limits.idle_timeout.count() / 1000));
    // Per read and write; the whole request's deadline is the connection's (ConnectionStream).
    server.set_read_timeout(std::chrono::milliseconds(options.limits.request_timeout));
    server.set_write_timeout(std::chrono::milliseconds(options.limits.write_timeout));
  }
};

HttpServer::HttpServer(const ServedModel& model, BatchLoop& loop, std::function<int()> validation_messages,
                       const ServerOptions& options)
    : impl_(std::make_unique<Impl>(model, loop, std::move(validation_messages), options)) {
  impl_->Routes();
}

HttpServer::~HttpServer() {
  if (impl_->stopper.joinable()) impl_->stopper.join();
}

int HttpServer::Bind() {
  const ServerOptions& o = impl_->options;
  if (o.port == 0) {
    const int port = impl_->server.bind_to_any_port(o.host);
    if (port <= 0) throw Error("cannot listen on " + o.host + ": no free port");
    return port;
  }
  if (!impl_->server.bind_to_port(o.host, o.port)) {
    throw Error("cannot listen on " + o.host + ":" + std::to_string(o.port) + " (in use, or not an address here)");
  }
  return o.port;
}

void HttpServer::Run() { impl_->server.listen_after_bind(); }

void HttpServer::Stop() {
  std::lock_guard lock(impl_->mu);
  if (impl_->draining) return;
  impl_->draining = true;
  impl_->stopper = std::thread([impl = impl_.get()] {
    // A Stop() right after Bind() may come before Run() listens, when stop() would do nothing.
    for (int i = 0; i < 500 && !impl->server.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    // New connections are answered 503 and closed; idle and half-sent ones are closed now.
    // (httplib's stop() would also cut the streams short: it comes last.)
    impl->server.BeginShutdown();
    {
      std::unique_lock lock(impl->mu);
      impl->cv.wait_for(lock, impl->options.shutdown_grace, [&] { return impl->in_flight == 0; });
    }
    impl->server.CloseAll();  // the grace is over: whatever is left
    impl->server.stop();
  });
}

}  // namespace vkg::serve
