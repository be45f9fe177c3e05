// libFuzzer target: `vkgemma serve`'s request-to-response path without a socket or a model run.
// The input is the raw bytes a client sends on one connection (request line, headers, body, more
// pipelined requests); they go through cpp-httplib's parser as the server runs it
// (GuardedServer's connection stream, InstallRequestGuards' head checks and error bodies), and
// the generation routes parse and check the body (ParseRequest against the tiny model's tokenizer
// and Gemma's chat template) and answer its prompt length instead of generating. A crash, a
// sanitizer report, an exception out of the server or a reply that is not HTTP with a JSON error
// body is a finding.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "host/serve/guarded_server.h"
#include "host/serve/http_guards.h"
#include "host/serve/json_text.h"
#include "host/serve/openai_request.h"
#include "host/text/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace {

using namespace vkg::serve;

// process_request is GuardedServer's (protected in httplib); here it runs on one end of a socket
// pair whose other end holds the input, so the connection stream is the server's own.
class FuzzServer : public GuardedServer {
 public:
  FuzzServer() : GuardedServer(4, Limits()) {}
  static ConnectionLimits Limits() {
    ConnectionLimits l;
    l.request_timeout = std::chrono::milliseconds(200);
    l.idle_timeout = std::chrono::milliseconds(0);
    l.write_timeout = std::chrono::milliseconds(200);
    l.max_head_bytes = 4096;
    return l;
  }
  bool Process(ConnectionStream& stream) {
    for (int i = 0; i < 8 && stream.WaitForRequest(std::chrono::milliseconds(0)); ++i) {
      stream.BeginRequest();
      bool closed = false;
      const bool ok = process_request(stream, "127.0.0.1", 1, "127.0.0.1", 8080, false, closed,
                                      [&](httplib::Request&) { stream.HeadDone(); });
      stream.EndRequest();
      if (!ok || closed || stream.failed()) break;
    }
    return true;
  }
};

struct Harness {
  vkg::tok::Tokenizer tokenizer = vkg::tok::Tokenizer::Load(VKG_FUZZ_TOKENIZER_DIR);
  vkg::ChatTemplate chat_template = vkg::ChatTemplate::BuiltinGemma4();
  ServedModel model;
  FuzzServer server;
  Harness() {
    model.id = "tiny";
    model.context = 128;
    model.tokenizer = &tokenizer;
    model.chat_template = &chat_template;
    RequestPolicy policy;
    policy.api_key = "k";
    policy.cors_origin = "https://app.example";
    InstallRequestGuards(server, policy, 2048);
    for (const auto& [path, endpoint] : {std::pair{"/v1/chat/completions", Endpoint::kChatCompletions},
                                         std::pair{"/v1/completions", Endpoint::kCompletions}}) {
      server.Post(path, [this, endpoint = endpoint](const httplib::Request& req, httplib::Response& res) {
        try {
          const ParsedRequest p = ParseRequest(endpoint, req.body, model);
          res.set_content(
              JsonText({{"prompt_tokens", p.sequence.prompt.size()}, {"max_tokens", p.sequence.max_tokens}}),
              "application/json");
        } catch (const ApiError& e) {
          SetError(res, e);
        }
      });
    }
    server.Get("/health", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"status":"ok"})", "application/json");
    });
  }
};

// Every reply is a status line; every JSON body parses (error bodies hold valid UTF-8).
void CheckReplies(const std::string& out) {
  size_t at = 0;
  while (at < out.size()) {
    if (out.compare(at, 9, "HTTP/1.1 ") != 0) std::abort();
    const size_t head_end = out.find("\r\n\r\n", at);
    if (head_end == std::string::npos) std::abort();
    const std::string head = out.substr(at, head_end - at);
    const size_t cl = head.find("Content-Length: ");
    size_t length = cl == std::string::npos ? 0 : std::strtoul(head.c_str() + cl + 16, nullptr, 10);
    // A reply to HEAD has a Content-Length but no body: the next reply (or the end) follows.
    if (head_end + 4 == out.size() || out.compare(head_end + 4, 9, "HTTP/1.1 ") == 0) length = 0;
    const std::string body = out.substr(head_end + 4, length);
    if (length > 0 && head.find("Content-Type: application/json") != std::string::npos &&
        nlohmann::json::parse(body, nullptr, false).is_discarded())
      std::abort();
    at = head_end + 4 + length;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness* harness = new Harness();
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return 0;
  // The input waits in the socket (up to its buffer; max_len keeps inputs below it), then the
  // client's end is shut for writing: the server reads it all, then the end of the stream.
  (void)::send(fds[1], data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(fds[1], SHUT_WR);
  {
    ConnectionStream stream(fds[0], FuzzServer::Limits());  // closes fds[0]
    harness->server.Process(stream);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fds[1], buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) break;
    out.append(buf, size_t(n));
  }
  ::close(fds[1]);
  CheckReplies(out);
  return 0;
}
