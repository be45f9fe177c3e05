// Shared by the HTTP server tests: the server in-process on the CPU reference (a free loopback
// port, the tiny model), a slowed-down engine, raw sockets, and the OpenAI error-body check.
#pragma once
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "host/batch/batch_engine.h"
#include "host/runtime/generate.h"
#include "host/serve/batch_loop.h"
#include "host/serve/http_server.h"
#include "host/text/chat_template.h"
#include "tests/serve/serve_test_util.h"

namespace vkg::serve::http_test {

using json = nlohmann::json;

// A BatchEngine whose every step takes at least `delay` longer: the tiny model decodes a token in
// about a millisecond, too fast for a test to act while a reply is still being generated.
class SlowEngine : public BatchEngine {
 public:
  SlowEngine(std::unique_ptr<BatchEngine> inner, std::chrono::milliseconds delay)
      : inner_(std::move(inner)), delay_(delay) {}
  const ModelConfig& config() const override { return inner_->config(); }
  uint32_t slots() const override { return inner_->slots(); }
  uint32_t context() const override { return inner_->context(); }
  std::vector<std::vector<float>> Step(std::span<const SlotInput> inputs) override {
    std::this_thread::sleep_for(delay_);
    return inner_->Step(inputs);
  }
  void AttachMedia(uint32_t slot, std::vector<SlotImage> images, std::vector<SlotAudio> audio) override {
    inner_->AttachMedia(slot, std::move(images), std::move(audio));
  }
  uint64_t images_encoded() const override { return inner_->images_encoded(); }
  uint64_t audio_encoded() const override { return inner_->audio_encoded(); }
  uint32_t n_past(uint32_t slot) const override { return inner_->n_past(slot); }
  void Reset(uint32_t slot) override { inner_->Reset(slot); }
  bool Truncate(uint32_t slot, uint32_t n) override { return inner_->Truncate(slot, n); }
  MemoryReport memory() const override { return inner_->memory(); }
  std::string device_name() const override { return inner_->device_name(); }
  int validation_messages() const override { return inner_->validation_messages(); }

 private:
  std::unique_ptr<BatchEngine> inner_;
  std::chrono::milliseconds delay_;
};

// A server on a free loopback port with `slots` CPU slots.
class Served {
 public:
  // stop_tokens false: replies run to max_tokens (tests that need a sequence to keep running).
  // step_delay: added to every batch step (SlowEngine). device: "cpu" (the reference engine) or ""
  // (the Vulkan device), with `context` positions per slot.
  Served(uint32_t slots, uint32_t max_queued, const std::string& api_key = "", size_t max_body = 4 << 20,
         bool stop_tokens = true, std::chrono::milliseconds step_delay = std::chrono::milliseconds(0),
         const std::function<void(ServerOptions&)>& configure = nullptr, const std::string& device = "cpu",
         uint32_t context = 128)
      : tokenizer_(tok::Tokenizer::Load(serve_test::TinyModelDir())),
        template_(ChatTemplate::Load(serve_test::TinyModelDir())) {
    EngineOptions eo;
    eo.device = device;
    eo.context = context;
    engine_ = BatchEngine::Open(serve_test::TinyModelDir().string(), eo, slots);
    if (step_delay.count() > 0) engine_ = std::make_unique<SlowEngine>(std::move(engine_), step_delay);
    model_.id = "gemma4-tiny";
    model_.context = engine_->context();
    model_.tokenizer = &tokenizer_;
    model_.chat_template = &template_;
    if (stop_tokens) model_.stop_ids = StopTokenIds(tokenizer_, model_.generation);
    BatchLoopOptions lo;
    lo.max_queued = max_queued;
    loop_ = std::make_unique<BatchLoop>(*engine_, tokenizer_, lo);
    ServerOptions so;
    so.port = 0;
    so.api_key = api_key;
    so.max_body_bytes = max_body;
    so.fingerprint = "vkgemma-test";
    if (configure) configure(so);
    server_ = std::make_unique<HttpServer>(
        model_, *loop_, [] { return 0; }, so);
    port_ = server_->Bind();
    thread_ = std::thread([this] { server_->Run(); });
  }
  ~Served() {
    server_->Stop();
    thread_.join();
    loop_->Stop();
  }
  int port() const { return port_; }
  HttpServer& server() { return *server_; }
  BatchLoop& loop() { return *loop_; }
  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    c.set_connection_timeout(10, 0);
    return c;
  }

 private:
  tok::Tokenizer tokenizer_;
  ChatTemplate template_;
  std::unique_ptr<BatchEngine> engine_;
  ServedModel model_;
  std::unique_ptr<BatchLoop> loop_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  int port_ = 0;
};

// The error body OpenAI clients parse: {"error": {"message", "type", "param", "code"}}.
inline void ExpectError(const httplib::Result& r, int status, const std::string& code) {
  ASSERT_TRUE(r) << "no response";
  EXPECT_EQ(r->status, status) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  const json j = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(j.is_object() && j.contains("error")) << r->body;
  EXPECT_TRUE(j["error"]["message"].is_string());
  EXPECT_TRUE(j["error"]["type"].is_string());
  EXPECT_TRUE(j["error"].contains("param"));
  EXPECT_EQ(j["error"]["code"], code) << r->body;
}

inline const char* kChat = R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":6,"temperature":0})";

// A raw HTTP request on a socket, so the test can close it mid-stream.
inline int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

inline void SendPost(int fd, const std::string& path, const std::string& body) {
  const std::string req = "POST " + path +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), ssize_t(req.size()));
}

// Reads until `needle` has arrived (or the socket ends); returns what was read.
inline std::string ReadUntil(int fd, const std::string& needle) {
  std::string got;
  char buf[4096];
  while (got.find(needle) == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, size_t(n));
  }
  return got;
}

// Raw bytes on a fresh connection; returns all the server sends until it closes (the requests
// say Connection: close).
inline std::string RawExchange(int port, const std::string& request) {
  const int fd = Connect(port);
  if (fd < 0) return "";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  const std::string got = ReadUntil(fd, "\r\n\r\n\r\n\r\n");  // (never comes: reads to the end)
  ::close(fd);
  return got;
}

// Invalid UTF-8 in the path (decoded from %ff, %c0), the query, a header and the body: each gets
// its 4xx with a JSON body whose text has the bad bytes replaced, and the server lives on.
}  // namespace vkg::serve::http_test
