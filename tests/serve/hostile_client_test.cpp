// `vkgemma serve` against hostile clients (issue 20), in-process on the CPU reference over
// loopback, each case bounded in count and time: no input ends the process; body, header and
// framing limits hold for every framing; trickling or idle connections cannot starve the server;
// shutdown is bounded; browsers' cross-site requests are refused; the key guards /metrics too.
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <sys/resource.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/serve/http_test_util.h"

namespace vkg::serve {
namespace {

using namespace http_test;
using json = nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The status code of a raw reply ("HTTP/1.1 413 ..." -> 413), 0 when there is none.
int StatusOf(const std::string& reply) {
  if (reply.rfind("HTTP/1.1 ", 0) != 0 || reply.size() < 12) return 0;
  return std::atoi(reply.substr(9, 3).c_str());
}

// The JSON body of a raw reply (with Content-Length), or null.
json BodyOf(const std::string& reply) {
  const size_t at = reply.find("\r\n\r\n");
  if (at == std::string::npos) return nullptr;
  return json::parse(reply.substr(at + 4), nullptr, false);
}

std::string Post(const std::string& path, const std::string& body, const std::string& extra_headers = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + extra_headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// True once the server has closed `fd` (end of stream within `wait`).
bool ClosedWithin(int fd, std::chrono::milliseconds wait) {
  const auto end = Clock::now() + wait;
  char buf[4096];
  while (Clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN)) return true;
  }
  return false;
}

const std::string kHealth = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

TEST(HostileClient, ChunkedBodiesHaveTheSameLimitAsWholeOnes) {
  Served s(1, 4, "", 4096);
  // 64 chunks of 1 KiB against a 4 KiB limit: 413 naming the limit, then the connection closes.
  const int fd = Connect(s.port());
  ASSERT_GE(fd, 0);
  std::string req =
      "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  const std::string chunk = "400\r\n" + std::string(1024, 'x') + "\r\n";
  for (int i = 0; i < 64; ++i) {
    if (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) < 0) break;  // (closed: nothing more is read)
  }
  const std::string reply = ReadUntil(fd, "\r\n\r\n\r\n\r\n");
  ::close(fd);
  EXPECT_EQ(StatusOf(reply), 413) << reply;
  EXPECT_EQ(BodyOf(reply)["error"]["message"], "the request body is over the size limit of 4096 bytes (--max-body)");
  // The same limit and message for a Content-Length body.
  const std::string whole = RawExchange(s.port(), Post("/v1/completions", std::string(5000, 'x')));
  EXPECT_EQ(StatusOf(whole), 413) << whole;
  EXPECT_EQ(BodyOf(whole)["error"]["code"], "payload_too_large");
}

TEST(HostileClient, HeaderCountLineAndTotalSizeAreLimited) {
  Served s(1, 4);
  std::string many = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (int i = 0; i < 200; ++i) many += "X-" + std::to_string(i) + ": y\r\n";
  EXPECT_EQ(StatusOf(RawExchange(s.port(), many + "\r\n")), 400) << "200 headers (at most 100)";
  const std::string long_line =
      "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: " + std::string(9000, 'y') + "\r\n\r\n";
  EXPECT_EQ(StatusOf(RawExchange(s.port(), long_line)), 400) << "a 9000-byte header line (at most 8 KiB)";
  std::string big = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (int i = 0; i < 10; ++i) big += "X-" + std::to_string(i) + ": " + std::string(8000, 'y') + "\r\n";
  const std::string reply = RawExchange(s.port(), big + "\r\n");
  EXPECT_EQ(StatusOf(reply), 431) << "80 KB of headers (at most 64 KiB)";
  EXPECT_EQ(BodyOf(reply)["error"]["code"], "headers_too_large");
  EXPECT_EQ(StatusOf(RawExchange(s.port(), kHealth)), 200);
}

TEST(HostileClient, AmbiguousFramingIs400AndClosesTheConnection) {
  Served s(1, 4);
  const std::string two_lengths =
      "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
      "Content-Length: 40\r\n\r\n{}";
  std::string reply = RawExchange(s.port(), two_lengths);
  EXPECT_EQ(StatusOf(reply), 400) << reply;
  EXPECT_EQ(BodyOf(reply)["error"]["code"], "bad_framing");
  EXPECT_NE(reply.find("Connection: close"), std::string::npos) << reply;
  const std::string both =
      "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5\r\n"
      "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
  reply = RawExchange(s.port(), both);
  EXPECT_EQ(StatusOf(reply), 400) << reply;
  EXPECT_EQ(BodyOf(reply)["error"]["code"], "bad_framing");
  EXPECT_EQ(StatusOf(RawExchange(s.port(), kHealth)), 200);
}

TEST(HostileClient, PipelinedRequestsAreAnsweredInOrder) {
  Served s(1, 4);
  const std::string three = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" +
                            Post("/v1/completions", R"({"prompt":"Hi","max_tokens":2,"temperature":0})") +
                            "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  const std::string reply = RawExchange(s.port(), three);
  const size_t first = reply.find(R"({"status":"ok"})");
  const size_t second = reply.find(R"("object":"text_completion")");
  const size_t third = reply.find(R"("object":"list")");
  EXPECT_NE(first, std::string::npos) << reply;
  EXPECT_NE(second, std::string::npos) << reply;
  EXPECT_NE(third, std::string::npos) << reply;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
}

// A client trickling its request a byte at a time gets 408 at the deadline of the whole request.
TEST(HostileClient, AWholeRequestHasADeadline) {
  Served s(1, 4, "", 4 << 20, true, 0ms, [](ServerOptions& o) { o.limits.request_timeout = 1s; });
  const int fd = Connect(s.port());
  ASSERT_GE(fd, 0);
  const std::string head = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
  ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
  const auto start = Clock::now();
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {  // a byte every 50 ms, for 5 s at most
    closed = ::send(fd, "y", 1, MSG_NOSIGNAL) < 0 || ClosedWithin(fd, 50ms);
  }
  ::close(fd);
  EXPECT_TRUE(closed) << "still open after 5 s of trickling";
  EXPECT_LT(Clock::now() - start, 4s);
  // The reply itself (on a fresh trickle, read before the close).
  const int fd2 = Connect(s.port());
  ::send(fd2, head.data(), head.size(), MSG_NOSIGNAL);
  const std::string reply = ReadUntil(fd2, "request_timeout");
  ::close(fd2);
  EXPECT_EQ(StatusOf(reply), 408) << reply;
}

// Many connections trickling headers do not starve the others: /health is answered while they
// hang (answered at all within the read timeout; the time it took is printed, and the README
// gives it), and past --max-connections new connections get 503 at once.
TEST(HostileClient, TricklingConnectionsDoNotStarveTheServer) {
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = r.rlim_max;
  setrlimit(RLIMIT_NOFILE, &r);
  getrlimit(RLIMIT_NOFILE, &r);
  // Each trickler holds two descriptors here (client and server end).
  const size_t n = std::min<size_t>(500, r.rlim_cur == RLIM_INFINITY ? 500 : (r.rlim_cur - 200) / 2);
  if (n < 100) GTEST_SKIP() << "the open file limit (" << r.rlim_cur << ") leaves room for " << n << " sockets";
  Served s(1, 4, "", 4 << 20, true, 0ms, [&](ServerOptions& o) { o.max_connections = n + 2; });
  std::vector<int> fds;
  const std::string partial = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: y";
  const auto t0 = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    const int fd = Connect(s.port());
    ASSERT_GE(fd, 0) << i;
    ::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL);
    fds.push_back(fd);
  }
  std::printf("%zu connections opened in %.2f s\n", n, std::chrono::duration<double>(Clock::now() - t0).count());
  for (int round = 0; round < 3; ++round) {
    for (int fd : fds) ::send(fd, "y", 1, MSG_NOSIGNAL);  // still trickling
    const auto start = Clock::now();
    auto c = s.Client();
    c.set_read_timeout(10, 0);
    auto health = c.Get("/health");
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    ASSERT_TRUE(health) << "no answer with " << n << " connections trickling";
    EXPECT_EQ(health->status, 200);
    std::printf("/health answered in %.1f ms with %zu connections trickling headers\n", ms, n);
  }
  // Filled to the cap: the next connection is refused at once with 503.
  const int a = Connect(s.port()), b = Connect(s.port());
  ::send(a, partial.data(), partial.size(), MSG_NOSIGNAL);
  ::send(b, partial.data(), partial.size(), MSG_NOSIGNAL);
  std::this_thread::sleep_for(200ms);
  const std::string refused = RawExchange(s.port(), kHealth);
  EXPECT_EQ(StatusOf(refused), 503) << refused;
  EXPECT_EQ(BodyOf(refused)["error"]["code"], "too_many_connections");
  ::close(a), ::close(b);
  for (int fd : fds) ::close(fd);
}

// Stop(): idle and half-sent connections close at once, a stream in flight finishes, and one that
// outlives the grace is cut at its end.
TEST(HostileClient, ShutdownIsBounded) {
  // 20 ms a step: 100 tokens take 2 s, far past the 300 ms grace.
  auto s = std::make_unique<Served>(2, 4, "", 4 << 20, /*stop_tokens=*/false, 20ms,
                                    [](ServerOptions& o) { o.shutdown_grace = 300ms; });
  const int idle = Connect(s->port());
  ::send(idle, kHealth.data(), kHealth.size(), MSG_NOSIGNAL);
  ASSERT_NE(ReadUntil(idle, R"({"status":"ok"})").find("200 OK"), std::string::npos);  // kept alive
  const int half = Connect(s->port());
  const std::string partial = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-";
  ::send(half, partial.data(), partial.size(), MSG_NOSIGNAL);
  const int stream = Connect(s->port());
  SendPost(stream, "/v1/completions", R"({"prompt":"Hi","max_tokens":100,"temperature":1,"seed":1,"stream":true})");
  ASSERT_NE(ReadUntil(stream, "data: ").find("200 OK"), std::string::npos);
  const auto start = Clock::now();
  s->server().Stop();
  EXPECT_TRUE(ClosedWithin(idle, 2s)) << "the idle connection stays open";
  EXPECT_TRUE(ClosedWithin(half, 2s)) << "the half-sent request's connection stays open";
  const std::string rest = ReadUntil(stream, "data: [DONE]");
  EXPECT_EQ(rest.find("data: [DONE]"), std::string::npos) << "the stream outlived the grace";
  s.reset();  // Run() returned, and the server is gone
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_LT(seconds, 10.0);
  std::printf("stopped in %.2f s with a 0.3 s grace\n", seconds);
  ::close(idle), ::close(half), ::close(stream);
}

TEST(HostileClient, BrowsersCannotDriveTheServerFromAnotherSite) {
  Served s(1, 4);
  const std::string body = R"({"prompt":"Hi","max_tokens":2})";
  // DNS rebinding: a page whose own name now resolves to 127.0.0.1.
  std::string reply = RawExchange(s.port(),
                                  "POST /v1/completions HTTP/1.1\r\nHost: evil.example\r\nContent-Type: "
                                  "application/json\r\nContent-Length: " +
                                      std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_EQ(StatusOf(reply), 403) << reply;
  EXPECT_EQ(BodyOf(reply)["error"]["code"], "host_not_allowed");
  EXPECT_EQ(StatusOf(RawExchange(s.port(), "GET /health HTTP/1.1\r\n\r\n")), 400) << "no Host";
  // A "simple" cross-site POST (no preflight): text/plain, a form.
  reply = RawExchange(s.port(),
                      "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                      "text/plain\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_EQ(StatusOf(reply), 415) << reply;
  const std::string form = "a=" + std::string(9000, 'b');
  reply = RawExchange(s.port(),
                      "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                      "application/x-www-form-urlencoded\r\nContent-Length: " +
                          std::to_string(form.size()) + "\r\n\r\n" + form);
  EXPECT_EQ(StatusOf(reply), 415) << reply;
  reply = RawExchange(s.port(), Post("/v1/completions", body, "Origin: https://evil.example\r\n"));
  EXPECT_EQ(StatusOf(reply), 403) << reply;
  EXPECT_EQ(BodyOf(reply)["error"]["code"], "origin_not_allowed");
  // The chat page's own requests (same origin: Origin and Host name the same host and port) are served.
  const std::string authority = "127.0.0.1:" + std::to_string(s.port());
  reply =
      RawExchange(s.port(), "POST /v1/completions HTTP/1.1\r\nHost: " + authority + "\r\nOrigin: http://" + authority +
                                "\r\nContent-Type: application/json\r\nConnection: close\r\n"
                                "Content-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_EQ(StatusOf(reply), 200) << reply;
}

TEST(HostileClient, CorsOriginAndAllowedHostsOpenWhatTheyName) {
  Served s(1, 4, "", 4 << 20, true, 0ms, [](ServerOptions& o) {
    o.cors_origin = "https://app.example";
    o.allowed_hosts = {"gpu-box.lan"};
  });
  const std::string preflight =
      "OPTIONS /v1/completions HTTP/1.1\r\nHost: gpu-box.lan:8080\r\nOrigin: https://app.example\r\n"
      "Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type, authorization\r\n"
      "Connection: close\r\n\r\n";
  std::string reply = RawExchange(s.port(), preflight);
  EXPECT_EQ(StatusOf(reply), 204) << reply;
  EXPECT_NE(reply.find("Access-Control-Allow-Origin: https://app.example\r\n"), std::string::npos) << reply;
  EXPECT_NE(reply.find("Access-Control-Allow-Headers: Authorization, Content-Type\r\n"), std::string::npos) << reply;
  reply = RawExchange(s.port(),
                      "POST /v1/completions HTTP/1.1\r\nHost: gpu-box.lan\r\nOrigin: https://app.example\r\n"
                      "Content-Type: application/json\r\nConnection: close\r\nContent-Length: 31\r\n\r\n"
                      R"({"prompt":"Hi","max_tokens":2} )");
  EXPECT_EQ(StatusOf(reply), 200) << reply;
  EXPECT_NE(reply.find("Access-Control-Allow-Origin: https://app.example\r\n"), std::string::npos) << reply;
  reply = RawExchange(s.port(),
                      "OPTIONS /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://other.example\r\n"
                      "Connection: close\r\n\r\n");
  EXPECT_EQ(StatusOf(reply), 403) << reply;
}

TEST(HostileClient, TheKeyGuardsMetricsAndIsNeverEchoed) {
  Served s(1, 4, "sekret-key-123");
  auto c = s.Client();
  ExpectError(c.Get("/metrics"), 401, "invalid_api_key");
  httplib::Headers right = {{"Authorization", "Bearer sekret-key-123"}};
  auto metrics = c.Get("/metrics", right);
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(c.Get("/health")->status, 200);
  for (const char* wrong : {"Bearer sekret-key-12", "Bearer sekret-key-1234", "Basic sekret-key-123", "sekret"}) {
    httplib::Headers h = {{"Authorization", wrong}};
    auto r = c.Post("/v1/completions", h, R"({"prompt":"sekret-key-123"})", "application/json");
    ExpectError(r, 401, "invalid_api_key");
    EXPECT_EQ(r->body.find("sekret"), std::string::npos) << r->body;
  }
}

TEST(HostileClient, UnknownFieldsAreIgnoredAndNamed) {
  Served s(1, 4);
  auto r = s.Client().Post("/v1/completions", R"({"prompt":"Hi","max_tokens":2,"mirostat":2,"ignore_eos":true})",
                           "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("X-Vkgemma-Ignored-Fields"), "mirostat");
  ExpectError(s.Client().Post("/v1/completions", R"({"prompt":"Hi","ignore_eos":"yes"})", "application/json"), 400,
              "invalid_type");
}

}  // namespace
}  // namespace vkg::serve
