// The HTTP server in-process on the CPU reference, driven by plain HTTP (cpp-httplib's client and a
// raw socket): every error case answers a 4xx (or 401/503) with an OpenAI-style error body, the
// streams are well formed, a client that disconnects (mid-stream, or waiting for a whole reply)
// frees its slot, Stop() lets streams finish.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>

#include "host/runtime/engine.h"
#include "host/runtime/generate.h"
#include "tests/serve/http_test_util.h"
#include "tokenizer/tokenizer.h"

namespace vkg::serve {
namespace {

using namespace http_test;
using json = nlohmann::json;
using namespace std::chrono_literals;

TEST(HttpServer, EndpointsAnswer) {
  Served s(2, 4);
  auto c = s.Client();
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body)["status"], "ok");
  auto models = c.Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(json::parse(models->body)["data"][0]["id"], "gemma4-tiny");
  auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("<title>vkgemma</title>"), std::string::npos);
  EXPECT_NE(page->get_header_value("Content-Type").find("text/html"), std::string::npos);

  auto chat = c.Post("/v1/chat/completions", kChat, "application/json");
  ASSERT_TRUE(chat);
  ASSERT_EQ(chat->status, 200) << chat->body;
  const json j = json::parse(chat->body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["model"], "gemma4-tiny");
  EXPECT_EQ(j["system_fingerprint"], "vkgemma-test");
  EXPECT_TRUE(j["id"].get<std::string>().rfind("chatcmpl-", 0) == 0);
  EXPECT_TRUE(j["created"].is_number_integer());
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_TRUE(j["choices"][0]["message"]["content"].is_string());
  const std::string finish = j["choices"][0]["finish_reason"];
  EXPECT_TRUE(finish == "stop" || finish == "length");
  EXPECT_GT(j["usage"]["prompt_tokens"].get<int>(), 0);
  EXPECT_EQ(j["usage"]["total_tokens"].get<int>(),
            j["usage"]["prompt_tokens"].get<int>() + j["usage"]["completion_tokens"].get<int>());

  auto completion =
      c.Post("/v1/completions", R"({"prompt":"The quick","max_tokens":4,"temperature":0})", "application/json");
  ASSERT_TRUE(completion);
  ASSERT_EQ(completion->status, 200) << completion->body;
  const json k = json::parse(completion->body);
  EXPECT_EQ(k["object"], "text_completion");
  EXPECT_TRUE(k["choices"][0]["text"].is_string());
  EXPECT_EQ(k["usage"]["prompt_tokens"], 10);  // <bos> + 9 bytes

  // Streamed: data: events, the role first, the finish reason last, usage on request, [DONE].
  auto stream = c.Post("/v1/chat/completions",
                       R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":6,"temperature":0,"stream":true,
                           "stream_options":{"include_usage":true}})",
                       "application/json");
  ASSERT_TRUE(stream);
  ASSERT_EQ(stream->status, 200);
  EXPECT_EQ(stream->get_header_value("Content-Type"), "text/event-stream");
  std::string text;
  std::vector<json> events;
  size_t pos = 0;
  bool done = false;
  while ((pos = stream->body.find("data: ", pos)) != std::string::npos) {
    const size_t end = stream->body.find("\n\n", pos);
    const std::string data = stream->body.substr(pos + 6, end - pos - 6);
    pos = end;
    if (data == "[DONE]") {
      done = true;
      continue;
    }
    events.push_back(json::parse(data));
  }
  EXPECT_TRUE(done);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.front()["choices"][0]["delta"]["role"], "assistant");
  for (const json& e : events) {
    EXPECT_EQ(e["object"], "chat.completion.chunk");
    if (!e["choices"].empty() && e["choices"][0]["delta"].contains("content"))
      text += e["choices"][0]["delta"]["content"];
  }
  EXPECT_EQ(text, j["choices"][0]["message"]["content"]) << "streamed and whole replies differ";
  EXPECT_EQ(events[events.size() - 2]["choices"][0]["finish_reason"], finish);
  EXPECT_TRUE(events.back()["choices"].empty());
  EXPECT_EQ(events.back()["usage"], j["usage"]);

  // Requests are counted once their response is written: the stream's just after its last byte.
  const std::string two_chats = "vkgemma_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"} 2";
  auto metrics = c.Get("/metrics");
  for (int i = 0; i < 100 && metrics && metrics->body.find(two_chats) == std::string::npos; ++i) {
    std::this_thread::sleep_for(20ms);
    metrics = c.Get("/metrics");
  }
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find(two_chats), std::string::npos) << metrics->body;
  for (const char* name :
       {"vkgemma_prompt_tokens_total ", "vkgemma_generated_tokens_total ", "vkgemma_sequences_active 0",
        "vkgemma_sequences_queued 0", "vkgemma_kv_slots_in_use 0", "vkgemma_kv_slots 2",
        "vkgemma_prompt_tokens_per_second ", "vkgemma_decode_tokens_per_second "}) {
    EXPECT_NE(metrics->body.find(name), std::string::npos) << name;
  }
}

TEST(HttpServer, BadRequestsGetOpenAiErrors) {
  Served s(1, 4, "", 4096);
  auto c = s.Client();
  auto post = [&](const std::string& path, const std::string& body) {
    return c.Post(path.c_str(), body, "application/json");
  };
  ExpectError(post("/v1/chat/completions", "{not json"), 400, "invalid_json");
  ExpectError(post("/v1/chat/completions", R"({"messages":"Hi"})"), 400, "invalid_type");
  ExpectError(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":"many"})"), 400,
              "invalid_type");
  ExpectError(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"Hi"}],"temperature":[1]})"), 400,
              "invalid_type");
  ExpectError(
      post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function"}]})"),
      400, "unsupported_parameter");
  ExpectError(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"Hi"}],"model":"gpt-4o"})"), 404,
              "model_not_found");
  ExpectError(post("/v1/completions", R"({"prompt":")" + std::string(200, 'x') + R"("})"), 400,
              "context_length_exceeded");
  ExpectError(post("/v1/completions", R"({"prompt":"x","max_tokens":500})"), 400, "context_length_exceeded");
  ExpectError(post("/v1/completions", R"({"prompt":")" + std::string(5000, 'x') + R"("})"), 413, "payload_too_large");
  ExpectError(post("/v1/nothing", "{}"), 404, "not_found");
  ExpectError(c.Get("/v1/chat/completions"), 404, "not_found");
  // The server is unharmed: a good request still works, and nothing is running or queued.
  auto ok = post("/v1/chat/completions", kChat);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(s.loop().stats().slots_in_use, 0u);
  EXPECT_EQ(s.loop().stats().prompt_tokens, uint64_t(json::parse(ok->body)["usage"]["prompt_tokens"].get<int>()));
}

TEST(HttpServer, ApiKeyIsRequiredOnTheApiAndMetrics) {
  Served s(1, 4, "sekret");
  auto c = s.Client();
  ExpectError(c.Post("/v1/chat/completions", kChat, "application/json"), 401, "invalid_api_key");
  ExpectError(c.Get("/v1/models"), 401, "invalid_api_key");
  httplib::Headers wrong = {{"Authorization", "Bearer nope"}};
  ExpectError(c.Post("/v1/chat/completions", wrong, kChat, "application/json"), 401, "invalid_api_key");
  httplib::Headers right = {{"Authorization", "Bearer sekret"}};
  auto ok = c.Post("/v1/chat/completions", right, kChat, "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  ExpectError(c.Get("/metrics"), 401, "invalid_api_key");
}

// Running out of context is a finish, not an error: a request without max_tokens generates to the
// end of the 128-position context and answers finish_reason "length" (whole and streamed, the same
// tokens as Generate on the reference engine); a prompt that leaves no room is a 400 before any work.
TEST(HttpServer, ARequestThatFillsTheContextFinishesWithLength) {
  Served s(1, 4, "", 4 << 20, /*stop_tokens=*/false);
  auto c = s.Client();
  const tok::Tokenizer tokenizer = tok::Tokenizer::Load(serve_test::TinyModelDir());
  EngineOptions eo;
  eo.device = "cpu";
  eo.context = 128;
  auto engine = Engine::Open(serve_test::TinyModelDir().string(), eo);
  GenerateOptions go;
  go.sampling.temperature = 0;
  const std::vector<int32_t> prompt = {2, 'H', 'i'};  // <bos> "Hi"
  const GenerateStats expected = Generate(*engine, prompt, go, nullptr);
  // 125 tokens evaluated to fill the context, and a 126th sampled from it: the server stops at the
  // 125 that fit (max_tokens is the room left), the same tokens.
  ASSERT_EQ(expected.stop, StopReason::kContextFull);
  ASSERT_EQ(expected.tokens.size(), 126u);
  const std::string text = tokenizer.Decode(std::vector<int32_t>(expected.tokens.begin(), expected.tokens.end() - 1));

  auto whole = c.Post("/v1/completions", R"({"prompt":"Hi","temperature":0})", "application/json");
  ASSERT_TRUE(whole);
  ASSERT_EQ(whole->status, 200) << whole->body;
  const json j = json::parse(whole->body);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["choices"][0]["text"], text);
  EXPECT_EQ(j["usage"]["prompt_tokens"], 3);
  EXPECT_EQ(j["usage"]["completion_tokens"], 125);

  auto streamed = c.Post("/v1/completions",
                         R"({"prompt":"Hi","temperature":0,"stream":true,"stream_options":{"include_usage":true}})",
                         "application/json");
  ASSERT_TRUE(streamed);
  ASSERT_EQ(streamed->status, 200);
  std::string streamed_text, finish;
  json usage;
  for (size_t pos = 0; (pos = streamed->body.find("data: ", pos)) != std::string::npos;) {
    const size_t end = streamed->body.find("\n\n", pos);
    const std::string data = streamed->body.substr(pos + 6, end - pos - 6);
    pos = end;
    if (data == "[DONE]") continue;
    const json e = json::parse(data);
    if (e.contains("usage") && !e["usage"].is_null()) usage = e["usage"];
    if (e["choices"].empty()) continue;
    streamed_text += e["choices"][0].value("text", "");
    if (!e["choices"][0]["finish_reason"].is_null()) finish = e["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(finish, "length");
  EXPECT_EQ(streamed_text, text);
  EXPECT_EQ(usage["completion_tokens"], 125);

  // One position left: one token, "length"; none left: 400 with the OpenAI error object.
  auto last =
      c.Post("/v1/completions", R"({"prompt":")" + std::string(126, 'x') + R"(","temperature":0})", "application/json");
  ASSERT_TRUE(last);
  ASSERT_EQ(last->status, 200) << last->body;
  EXPECT_EQ(json::parse(last->body)["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(json::parse(last->body)["usage"]["completion_tokens"], 1);
  auto full = c.Post("/v1/completions", R"({"prompt":")" + std::string(127, 'x') + R"("})", "application/json");
  ExpectError(full, 400, "context_length_exceeded");
  EXPECT_EQ(json::parse(full->body)["error"]["message"],
            "the prompt has 128 tokens but the context holds 128 (with room for at least one generated token)");
  EXPECT_EQ(json::parse(full->body)["error"]["param"], "prompt");
  EXPECT_EQ(json::parse(full->body)["error"]["type"], "invalid_request_error");
}

// After the one running sequence's client left: its slot is freed (within 10 s) and the cancel
// counted (stats and /metrics), and the slot serves the next request.
void ExpectTheOneSequenceCancelled(Served& s) {
  for (int i = 0; i < 200 && s.loop().stats().slots_in_use > 0; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(s.loop().stats().slots_in_use, 0u);
  EXPECT_EQ(s.loop().stats().cancelled, 1u);
  auto c = s.Client();
  auto metrics = c.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("vkgemma_sequences_cancelled_total 1\n"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("vkgemma_kv_slots_in_use 0\n"), std::string::npos) << metrics->body;
  auto ok = c.Post("/v1/chat/completions", kChat, "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

const char* kLongStream =
    R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":100,"temperature":1,"seed":1,"stream":true})";

TEST(HttpServer, FullQueueAnswers503AndADisconnectFreesTheSlot) {
  Served s(1, 0, "", 4 << 20, /*stop_tokens=*/false);
  // A long stream holds the only slot; nothing may queue.
  const int fd = Connect(s.port());
  ASSERT_GE(fd, 0);
  SendPost(fd, "/v1/chat/completions", kLongStream);
  const std::string head = ReadUntil(fd, "data: ");
  ASSERT_NE(head.find("200 OK"), std::string::npos) << head;
  // The stream's head is written when the request is accepted, before the loop admits it into the
  // slot: wait for the admission (a loaded machine may delay the loop's thread), or the sequence
  // would still be queued when its client leaves below.
  for (int i = 0; i < 400 && s.loop().stats().slots_in_use == 0; ++i) std::this_thread::sleep_for(25ms);
  ASSERT_EQ(s.loop().stats().slots_in_use, 1u) << "the long stream was never admitted";
  auto c = s.Client();
  auto busy = c.Post("/v1/chat/completions", kChat, "application/json");
  ExpectError(busy, 503, "queue_full");
  EXPECT_EQ(busy->get_header_value("Retry-After"), "1");
  // The client goes away mid-stream: its sequence is cancelled and the slot freed.
  ::close(fd);
  ExpectTheOneSequenceCancelled(s);
}

TEST(HttpServer, ANonStreamedClientThatDisconnectsFreesTheSlot) {
  // 20 ms a step: 100 tokens take 2 s at least, long after the disconnect must have been noticed.
  Served s(1, 0, "", 4 << 20, /*stop_tokens=*/false, 20ms);
  constexpr uint32_t kMaxTokens = 100;
  const int fd = Connect(s.port());
  ASSERT_GE(fd, 0);
  SendPost(fd, "/v1/completions",
           R"({"prompt":"Hi","max_tokens":)" + std::to_string(kMaxTokens) + R"(,"temperature":1,"seed":1})");
  for (int i = 0; i < 2000 && s.loop().stats().generated_tokens == 0; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_GT(s.loop().stats().generated_tokens, 0u) << "the request never started decoding";
  // The client gives up while it waits for the whole reply: nothing is being written to it, yet its
  // sequence is cancelled and the slot freed.
  ::close(fd);
  ExpectTheOneSequenceCancelled(s);
  EXPECT_LT(s.loop().stats().generated_tokens, kMaxTokens) << "the sequence decoded to max_tokens";
}

TEST(HttpServer, StopLetsStreamsInFlightFinish) {
  auto s = std::make_unique<Served>(1, 4, "", 4 << 20, /*stop_tokens=*/false);
  const int fd = Connect(s->port());
  ASSERT_GE(fd, 0);
  SendPost(fd, "/v1/chat/completions",
           R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":40,"temperature":1,"seed":1,"stream":true})");
  ASSERT_NE(ReadUntil(fd, "data: ").find("200 OK"), std::string::npos);
  s->server().Stop();
  // New work is refused while the stream drains...
  auto c = s->Client();
  auto refused = c.Post("/v1/chat/completions", kChat, "application/json");
  if (refused) ExpectError(refused, 503, "shutting_down");  // (or the socket is already closed)
  // ...and the stream ends properly.
  const std::string rest = ReadUntil(fd, "data: [DONE]");
  EXPECT_NE(rest.find("data: [DONE]"), std::string::npos) << rest;
  EXPECT_NE(rest.find("\"finish_reason\":\"length\""), std::string::npos) << rest;
  ::close(fd);
  s.reset();  // joins the server: returns once the stream is over
}

TEST(HttpServer, InvalidUtf8AnywhereIsAnsweredNotACrash) {
  Served s(1, 4, "sekret");
  for (const std::string& request :
       {std::string("GET /%ff HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
        std::string("POST /v1/%c0 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"),
        std::string("GET /v1/models?x=%ff%fe HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                    "\xff\xfe\r\nConnection: close\r\n\r\n"),
        std::string("GET /nothing/\xc3\x28 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")}) {
    const std::string reply = RawExchange(s.port(), request);
    ASSERT_NE(reply.find("HTTP/1.1 4"), std::string::npos) << request << "\n->\n" << reply;
    const size_t body = reply.find("\r\n\r\n");
    ASSERT_NE(body, std::string::npos) << reply;
    const json j = json::parse(reply.substr(body + 4), nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << reply;
    auto health = s.Client().Get("/health");
    ASSERT_TRUE(health) << "the server died on: " << request;
    EXPECT_EQ(health->status, 200);
  }
  // In the body: valid JSON escapes are fine, raw invalid bytes are invalid JSON (400).
  httplib::Headers key = {{"Authorization", "Bearer sekret"}};
  auto bad = s.Client().Post("/v1/completions", key, "{\"prompt\":\"\xff\"}", "application/json");
  ExpectError(bad, 400, "invalid_json");
  EXPECT_EQ(json::parse(s.Client().Get("/health")->body)["status"], "ok");
}

class Cleanup : public ::testing::Environment {
 public:
  void TearDown() override { serve_test::RemoveTinyModelDir(); }
};
const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new Cleanup);

}  // namespace
}  // namespace vkg::serve
