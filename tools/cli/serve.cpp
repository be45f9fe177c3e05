// `vkgemma serve`: the OpenAI-compatible HTTP server (layer: tools). Loads the model once with
// --parallel sequence slots (host/batch), runs the continuous batching loop and the HTTP server
// (host/serve), prints one line with the URL when it is ready, and on Ctrl-C / SIGTERM refuses new
// requests, finishes those in flight and exits 0.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <optional>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "git_commit.h"
#include "host/batch/batch_engine.h"
#include "host/error.h"
#include "host/model/gguf/gguf_file.h"
#include "host/runtime/generate.h"
#include "host/serve/batch_loop.h"
#include "host/serve/http_server.h"
#include "host/text/chat_template.h"
#include "host/text/generation_config.h"
#include "host/text/gguf_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tools/cli/audio_args.h"
#include "tools/cli/commands.h"
#include "tools/cli/image_args.h"
#include "tools/cli/options.h"

namespace vkg::cli {
namespace {

constexpr const char* kUsage =
    "usage: vkgemma serve -m DIR|FILE.gguf [options]\n"
    "An OpenAI-compatible HTTP server: POST /v1/chat/completions and /v1/completions (streamed\n"
    "with stream: true), GET /v1/models, /health, /metrics (Prometheus) and a chat page at /.\n"
    "Up to --parallel sequences run at once (continuous batching: a request starts as soon as a\n"
    "slot is free); more wait in a queue, and past it requests get 503 with Retry-After. Prints\n"
    "'listening on http://HOST:PORT' on stdout when ready; Ctrl-C or SIGTERM finishes the requests\n"
    "in flight and exits. Sampling defaults come from generation_config.json.\n"
    "  --host ADDR         address to listen on (default 127.0.0.1: this machine only)\n"
    "  --port N            port (default 8080; 0: any free port, named in the ready line)\n"
    "  --parallel N        sequences decoded together, each with its own KV cache (default 4)\n"
    "  --queue N           requests waiting for a slot at most (default 4 x --parallel)\n"
    "  --api-key KEY       require 'Authorization: Bearer KEY' on /v1/* and /metrics (default: none)\n"
    "  --max-body BYTES    largest request body, sent whole or chunked (default 4194304); larger: 413\n"
    "  --max-connections N open connections at most (default 1024); the next get 503 and are closed\n"
    "  --request-timeout S seconds a client has to send a whole request (default 30); then 408\n"
    "  --shutdown-grace S  on Ctrl-C / SIGTERM, seconds requests in flight may take to finish\n"
    "                      (default 30); idle connections close at once, the rest after it\n"
    "  --allowed-hosts H,H names the Host header may give besides localhost, 127.0.0.1, ::1 and\n"
    "                      --host ('*': any; keeps other sites' pages out, DNS rebinding)\n"
    "  --cors-origin ORIGIN a web origin (https://app.example) whose pages may call the API\n"
    "                      ('*': any); by default cross-origin requests are refused (403)\n"
    "  --name NAME         the model's name in the API (default: the checkpoint's directory or file name)\n";

int ParsePort(const std::string& v) {
  char* end = nullptr;
  const long p = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || p < 0 || p > 65535)
    throw UsageError("--port needs a number in 0..65535, got '" + v + "'");
  return int(p);
}

struct ServeArgs {
  std::string model_dir, name;
  uint32_t parallel = 4;
  uint32_t max_queued = 0;  // --queue, else 4 x --parallel
  serve::ServerOptions server_options;
  EngineOptions options;
};

// nullopt after printing the usage (--help).
std::optional<ServeArgs> ParseServeArgs(const std::vector<std::string>& args) {
  ServeArgs a;
  std::optional<uint32_t> queue;
  OptionParser parser("serve");
  AddEngineOptions(parser, &a.model_dir, &a.options);
  parser.Value({"--host"}, [&](const std::string& v) { a.server_options.host = v; })
      .Value({"--port"}, [&](const std::string& v) { a.server_options.port = ParsePort(v); })
      .Value({"--parallel", "-np"}, [&](const std::string& v) { a.parallel = ParseCount("--parallel", v, 1); })
      .Value({"--queue"}, [&](const std::string& v) { queue = ParseCount("--queue", v, 0); })
      .Value({"--api-key"},
             [&](const std::string& v) {
               if (v.empty()) throw UsageError("--api-key needs a non-empty key");
               a.server_options.api_key = v;
             })
      .Value({"--max-body"},
             [&](const std::string& v) { a.server_options.max_body_bytes = ParseCount("--max-body", v, 1024); })
      .Value({"--max-connections"},
             [&](const std::string& v) { a.server_options.max_connections = ParseCount("--max-connections", v, 1); })
      .Value({"--request-timeout"},
             [&](const std::string& v) {
               a.server_options.limits.request_timeout = std::chrono::seconds(ParseCount("--request-timeout", v, 1));
             })
      .Value({"--shutdown-grace"},
             [&](const std::string& v) {
               a.server_options.shutdown_grace = std::chrono::seconds(ParseCount("--shutdown-grace", v, 0));
             })
      .Value({"--allowed-hosts"},
             [&](const std::string& v) {
               for (size_t start = 0; start <= v.size();) {
                 const size_t comma = std::min(v.find(',', start), v.size());
                 if (comma > start) a.server_options.allowed_hosts.push_back(v.substr(start, comma - start));
                 start = comma + 1;
               }
               if (a.server_options.allowed_hosts.empty()) throw UsageError("--allowed-hosts needs a name");
             })
      .Value({"--cors-origin"},
             [&](const std::string& v) {
               if (v != "*" && (v.find("://") == std::string::npos || v.back() == '/'))
                 throw UsageError("--cors-origin needs an origin such as https://app.example (no path) or '*', got '" +
                                  v + "'");
               a.server_options.cors_origin = v;
             })
      .Value({"--name"}, [&](const std::string& v) { a.name = v; });
  if (!ParseModelCommand(parser, args, kUsage, "serve", a.model_dir)) return std::nullopt;
  if (a.parallel > 64) throw UsageError("--parallel is at most 64");
  CheckModelPath(a.model_dir);  // a checkpoint directory or a .gguf file, as `run` takes
  a.max_queued = queue.value_or(4 * a.parallel);
  return a;
}

// SIGINT/SIGTERM are taken by one thread (sigwait), never by a handler interrupting another: they
// are blocked before any thread exists (the driver starts its own while the model loads, and a
// signal delivered to one of those would kill the process in the middle of a stream).
// Before the server is up a signal just ends the process; after, it drains the server.
// SIGPIPE: a client that closed its socket must not kill the server (send() reports it).
class StopSignalThread {
 public:
  StopSignalThread() {
    sigemptyset(&stop_signals_);
    sigaddset(&stop_signals_, SIGINT);
    sigaddset(&stop_signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals_, nullptr);
    signal(SIGPIPE, SIG_IGN);
    thread_ = std::thread([this] {
      int sig = 0;
      sigwait(&stop_signals_, &sig);
      if (finished_.load()) return;
      serve::HttpServer* server = running_.load();
      if (!server) std::_Exit(128 + sig);  // still loading (or already stopped): nothing to finish
      server->Stop();
    });
  }
  // On every way out (a load error too): wake the thread and join it.
  ~StopSignalThread() {
    finished_.store(true);
    kill(getpid(), SIGTERM);
    thread_.join();
  }
  // The server a signal stops from now on; nullptr: a signal ends the process.
  void SetServer(serve::HttpServer* server) { running_.store(server); }

 private:
  sigset_t stop_signals_;
  std::atomic<serve::HttpServer*> running_{nullptr};
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

// Each connection is a descriptor: lift the soft limit (often 1024) towards the hard one, so
// --max-connections, not the limit, decides; and keep the cap below what is available.
void RaiseOpenFileLimit(size_t& max_connections) {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return;
  if (r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
    getrlimit(RLIMIT_NOFILE, &r);
  }
  constexpr rlim_t kReserved = 128;  // model files, the device, logs
  if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur > kReserved && max_connections > r.rlim_cur - kReserved) {
    max_connections = size_t(r.rlim_cur - kReserved);
    std::fprintf(stderr, "vkgemma serve: --max-connections lowered to %zu (open file limit %llu)\n", max_connections,
                 (unsigned long long)r.rlim_cur);
  }
}

}  // namespace

int Serve(const std::vector<std::string>& args) {
  std::optional<ServeArgs> parsed = ParseServeArgs(args);
  if (!parsed) return 0;
  const std::string& model_dir = parsed->model_dir;
  const uint32_t parallel = parsed->parallel, max_queued = parsed->max_queued;
  const EngineOptions& options = parsed->options;
  serve::ServerOptions& server_options = parsed->server_options;
  StopSignalThread stop_signals;

  // The cheap checks first, then the load. -m: a checkpoint directory or a .gguf file.
  CheckModelPath(model_dir);
  const GenerationConfig gen = GenerationConfig::Load(model_dir);
  const tok::Tokenizer tokenizer = LoadModelTokenizer(model_dir);
  const ChatTemplate tmpl = ChatTemplate::Load(model_dir);
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<BatchEngine> engine = BatchEngine::Open(model_dir, options, parallel);
  const MemoryReport m = engine->memory();
  std::fprintf(stderr,
               "loaded %s on %s in %.2f s: %u slots of %u positions, weights %.1f MiB, KV cache %.1f MiB, "
               "scratch %.1f MiB\n",
               model_dir.c_str(), engine->device_name().c_str(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), engine->slots(),
               engine->context(), double(m.weights) / 1048576.0, double(m.kv_cache) / 1048576.0,
               double(m.scratch) / 1048576.0);

  serve::ServedModel served;
  const std::filesystem::path model_path = std::filesystem::weakly_canonical(model_dir);
  served.id = !parsed->name.empty()   ? parsed->name
              : IsGgufPath(model_dir) ? model_path.stem().string()
                                      : model_path.filename().string();
  served.context = engine->context();
  served.tokenizer = &tokenizer;
  served.chat_template = &tmpl;
  served.generation = gen;
  served.stop_ids = StopTokenIds(tokenizer, gen);

  serve::BatchLoopOptions loop_options;
  loop_options.max_queued = max_queued;
  // The engine's prompt chunk (--batch, else its device's default; the CPU reference: 64).
  const uint32_t chunk = engine->memory().batch ? engine->memory().batch : (options.batch ? options.batch : 64);
  // image_url parts (tools/cli/image_engine.cpp)
  ConfigureServedImages(model_dir, engine->config(), chunk, &served);
  ConfigureServedAudio(engine->config(), &served);  // input_audio parts (audio_engine.cpp)
  loop_options.prefill_chunk = chunk;
  loop_options.prefill_tokens_per_step = std::max<uint32_t>(chunk, 128);

  serve::BatchLoop loop(*engine, tokenizer, loop_options);
  RaiseOpenFileLimit(server_options.max_connections);
  server_options.fingerprint = std::string("vkgemma-") + VKG_GIT_COMMIT;
  BatchEngine* engine_ptr = engine.get();
  serve::HttpServer server(
      served, loop, [engine_ptr] { return engine_ptr->validation_messages(); }, server_options);
  const int port = server.Bind();
  stop_signals.SetServer(&server);
  const std::string host =
      server_options.host.find(':') != std::string::npos ? "[" + server_options.host + "]" : server_options.host;
  std::printf("vkgemma serve: listening on http://%s:%d (model '%s', %u slots of %u positions)\n", host.c_str(), port,
              served.id.c_str(), engine->slots(), engine->context());
  std::fflush(stdout);
  server.Run();
  stop_signals.SetServer(nullptr);
  loop.Stop();
  const int messages = engine->validation_messages();
  std::fprintf(stderr, "vkgemma serve: stopped\n");
  if (messages > 0) {
    std::fprintf(stderr, "error: %d Vulkan validation messages\n", messages);
    return 1;
  }
  return 0;
}

}  // namespace vkg::cli
