// The continuous batching loop: with greedy sampling every sequence's text equals the same prompt
// generated alone (Generate on one Engine), on the CPU reference and on the GPU path, while
// requests queue, share slots, reuse cached prefixes and get cancelled. (On the GPU only the
// 3-slot case: until the batched GPU engine lands every slot is its own Vulkan device on lavapipe,
// 8 of them with validation cost two minutes.)
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "host/batch/batch_engine.h"
#include "host/runtime/generate.h"
#include "host/serve/batch_loop.h"
#include "host/text/chat_template.h"
#include "host/text/generation_config.h"
#include "tests/serve/serve_test_util.h"

namespace vkg::serve {
namespace {

using namespace std::chrono_literals;

struct Reply {
  std::string text;
  FinishReason finish = FinishReason::kNone;
  uint32_t completion_tokens = 0;
};

Reply ReadAll(SequenceStream& s) {
  Reply r;
  for (;;) {
    SequenceUpdate u = s.Take(5000ms);
    r.text += u.text;
    if (u.done()) {
      r.finish = u.finish;
      r.completion_tokens = u.completion_tokens;
      return r;
    }
  }
}

class BatchLoopTest : public ::testing::Test {
 protected:
  BatchLoopTest() : tokenizer_(tok::Tokenizer::Load(serve_test::TinyModelDir())) {
    stop_ids_ = StopTokenIds(tokenizer_, GenerationConfig{});
  }

  EngineOptions Options(const std::string& device) {
    EngineOptions o;
    o.device = device;
    o.context = 256;
    o.batch = 16;  // prompts longer than one chunk are read over several steps
    return o;
  }

  SequenceRequest Greedy(const std::string& user_text, uint32_t max_tokens) {
    SequenceRequest r;
    const std::vector<ChatMessage> messages = {{"user", user_text}};
    r.prompt = ChatTemplate::BuiltinGemma4().Encode(tokenizer_, messages, ChatOptions{});
    r.sampling.do_sample = false;
    r.sampling.temperature = 0;
    r.max_tokens = max_tokens;
    r.stop_ids = stop_ids_;
    return r;
  }

  // The same request generated alone on one Engine, as `vkgemma run --temp 0` does.
  Reply Alone(Engine& engine, const SequenceRequest& r) {
    engine.Reset();
    GenerateOptions go;
    go.sampling = r.sampling;
    go.max_tokens = r.max_tokens;
    go.stop_ids = r.stop_ids;
    tok::StreamDecoder decoder(tokenizer_);
    Reply out;
    const GenerateStats stats = Generate(engine, r.prompt, go, [&](int32_t id) {
      if (std::find(r.stop_ids.begin(), r.stop_ids.end(), id) == r.stop_ids.end()) out.text += decoder.Push(id);
    });
    out.text += decoder.Finish();
    out.finish = stats.stop == StopReason::kStopToken ? FinishReason::kStop : FinishReason::kLength;
    out.completion_tokens = uint32_t(stats.generated_tokens);
    return out;
  }

  // 8 requests of different prompt and reply lengths, all submitted at once to `slots` slots.
  void EightConcurrentRequestsEqualEachAlone(const std::string& device, uint32_t slots) {
    // The first request ends after one token, so its slot holds exactly its prompt, and with 3
    // slots the fourth (the same prompt) goes to that slot and evaluates only the prompt's last
    // token (a longer divergence would outrun the tiny model's 8-position sliding window ring).
    const std::vector<std::pair<std::string, uint32_t>> cases = {
        {"Hi", 1},
        {"The quick brown fox jumps over the lazy dog.", 5},
        {"a", 9},
        {"Hi", 12},
        {"Tell me a story about a robot who learns to paint, in three sentences.", 7},
        {"Hi there", 3},
        {"0123456789 0123456789 0123456789 0123456789", 11},
        {"Why?", 8}};
    std::unique_ptr<BatchEngine> batch = BatchEngine::Open(serve_test::TinyModelDir().string(), Options(device), slots);
    BatchLoopOptions lo;
    lo.prefill_chunk = 16;
    lo.prefill_tokens_per_step = 24;  // some prompts wait a step for their turn
    BatchLoop loop(*batch, tokenizer_, lo);
    std::vector<std::shared_ptr<SequenceStream>> streams;
    for (const auto& [text, n] : cases) {
      streams.push_back(loop.Submit(Greedy(text, n)));
      ASSERT_NE(streams.back(), nullptr);
    }
    std::vector<Reply> replies;
    for (auto& s : streams) replies.push_back(ReadAll(*s));
    loop.Stop();
    const BatchLoopStats st = loop.stats();
    EXPECT_EQ(st.slots_in_use, 0u);
    EXPECT_EQ(st.active, 0u);
    EXPECT_EQ(st.queued, 0u);
    if (slots < cases.size()) {
      EXPECT_GT(st.reused_tokens, 0u) << "later prompts share the template's prefix";
    }

    std::unique_ptr<Engine> alone = Engine::Open(serve_test::TinyModelDir().string(), Options(device));
    uint64_t generated = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
      const Reply want = Alone(*alone, Greedy(cases[i].first, cases[i].second));
      EXPECT_EQ(replies[i].text, want.text) << "request " << i;
      EXPECT_EQ(replies[i].finish, want.finish) << "request " << i;
      EXPECT_EQ(replies[i].completion_tokens, want.completion_tokens) << "request " << i;
      generated += want.completion_tokens;
    }
    EXPECT_EQ(st.generated_tokens, generated);
    EXPECT_EQ(batch->validation_messages() + alone->validation_messages(), 0);
  }

  tok::Tokenizer tokenizer_;
  std::vector<int32_t> stop_ids_;
};

TEST_F(BatchLoopTest, CpuEightConcurrentRequestsEqualEachAlone) { EightConcurrentRequestsEqualEachAlone("cpu", 8); }
TEST_F(BatchLoopTest, CpuMoreRequestsThanSlotsQueueAndReusePrefixes) {
  EightConcurrentRequestsEqualEachAlone("cpu", 3);
}
TEST_F(BatchLoopTest, GpuMoreRequestsThanSlotsQueueAndReusePrefixes) { EightConcurrentRequestsEqualEachAlone("", 3); }

TEST_F(BatchLoopTest, CpuCancelledSequenceFreesItsSlotAtOnce) {
  std::unique_ptr<BatchEngine> batch = BatchEngine::Open(serve_test::TinyModelDir().string(), Options("cpu"), 1);
  BatchLoop loop(*batch, tokenizer_, BatchLoopOptions{});
  SequenceRequest r = Greedy("Hi", 200);
  r.stop_ids.clear();  // would run to 200 tokens
  auto first = loop.Submit(r);
  auto second = loop.Submit(Greedy("Hi", 4));  // waits for the only slot
  ASSERT_TRUE(first && second);
  for (;;) {  // cancel once it is generating
    const SequenceUpdate u = first->Take(1000ms);
    if (!u.text.empty() || u.completion_tokens > 0 || u.done()) break;
  }
  first->Cancel();
  const Reply a = ReadAll(*first);
  EXPECT_EQ(a.finish, FinishReason::kCancelled);
  EXPECT_LT(a.completion_tokens, 200u);
  const Reply b = ReadAll(*second);
  EXPECT_NE(b.finish, FinishReason::kCancelled);
  EXPECT_EQ(loop.stats().cancelled, 1u);
  EXPECT_EQ(loop.stats().slots_in_use, 0u);
}

TEST_F(BatchLoopTest, CpuFullQueueRefusesAndStopStringsEndTheReply) {
  std::unique_ptr<BatchEngine> batch = BatchEngine::Open(serve_test::TinyModelDir().string(), Options("cpu"), 1);
  std::unique_ptr<Engine> alone = Engine::Open(serve_test::TinyModelDir().string(), Options("cpu"));
  BatchLoopOptions lo;
  lo.max_queued = 1;
  BatchLoop loop(*batch, tokenizer_, lo);
  // The reply alone, then the same with a stop string taken from its middle.
  const Reply full = Alone(*alone, Greedy("Hi", 12));
  ASSERT_GE(full.text.size(), 4u);
  SequenceRequest r = Greedy("Hi", 12);
  r.stop_strings = {full.text.substr(2, 2)};
  std::vector<std::shared_ptr<SequenceStream>> accepted;
  int refused = 0;
  for (int i = 0; i < 6; ++i) {
    auto s = loop.Submit(r);
    s ? accepted.push_back(s) : void(++refused);
  }
  EXPECT_GE(accepted.size(), 2u);  // one running (or about to), one queued
  EXPECT_GE(refused, 1);
  for (auto& s : accepted) {
    const Reply got = ReadAll(*s);
    EXPECT_EQ(got.finish, FinishReason::kStop);
    EXPECT_EQ(got.text, full.text.substr(0, full.text.find(r.stop_strings[0])));
  }
}

class Cleanup : public ::testing::Environment {
 public:
  void TearDown() override { serve_test::RemoveTinyModelDir(); }
};
const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new Cleanup);

}  // namespace
}  // namespace vkg::serve
