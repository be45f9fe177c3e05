// Generate() on the CPU reference engine, and the end-to-end `vkgemma run` check: greedy text on
// the GPU equals the reference engine's greedy tokens. Tests named Gpu* need a Vulkan device.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "host/error.h"
#include "host/runtime/engine.h"
#include "host/runtime/generate.h"
#include "host/text/generation_config.h"
#include "tests/model/test_helpers.h"
#include "tests/run_vkgemma.h"
#include "tokenizer/tokenizer.h"

namespace vkg {
namespace {

namespace fs = std::filesystem;

// The tiny byte-level tokenizer (tests/generate/data/tokenizer.json): ids 0..8 are
// <pad> <eos> <bos> <unk> <|turn> <turn|> <|think|> <|channel> <channel|>, id b (9..255) is the byte b.
constexpr int32_t kEos = 1, kBos = 2, kTurnEnd = 5;
const char* kPrompt = "The quick brown fox";

// A vocab-256 random checkpoint (vkg_make_checkpoint --seed 6) with the tiny tokenizer, made once.
const fs::path& TinyModel() {
  static const fs::path dir = [] {
    const fs::path d = fs::temp_directory_path() / ("vkg_generate_model_" + std::to_string(::getpid()));
    fs::remove_all(d);
    const std::string args = "--out " + d.string() + " --vocab 256 --seed 6";
    if (test::RunMakeCheckpoint(args) != 0) throw std::runtime_error("vkg_make_checkpoint " + args + " failed");
    fs::copy_file(fs::path(VKG_SOURCE_DIR) / "tests/generate/data/tokenizer.json", d / "tokenizer.json");
    return d;
  }();
  return dir;
}

class Cleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    fs::remove_all(fs::temp_directory_path() / ("vkg_generate_model_" + std::to_string(::getpid())));
  }
};
const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new Cleanup);

std::vector<int32_t> RawPrompt(const tok::Tokenizer& tok, const std::string& text) {
  std::vector<int32_t> ids = {kBos};
  const auto t = tok.Encode(text);
  ids.insert(ids.end(), t.begin(), t.end());
  return ids;
}

std::unique_ptr<Engine> CpuEngine(uint32_t context = 0) {
  EngineOptions o;
  o.device = "cpu";
  o.context = context;
  return Engine::Open(TinyModel().string(), o);
}

// Greedy decoding written out by hand: argmax (lowest id on ties) of each position's logits.
std::vector<int32_t> ReferenceGreedy(const std::vector<int32_t>& prompt, size_t n, const std::vector<int32_t>& stops) {
  auto engine = CpuEngine();
  const size_t V = size_t(engine->config().vocab_size);
  std::vector<float> logits = engine->Forward(prompt, /*all_logits=*/false);
  std::vector<int32_t> out;
  for (;;) {
    const int32_t id = int32_t(std::max_element(logits.begin(), logits.begin() + std::ptrdiff_t(V)) - logits.begin());
    out.push_back(id);
    if (out.size() == n || std::find(stops.begin(), stops.end(), id) != stops.end()) break;
    logits = engine->Forward(std::vector<int32_t>{id}, false);
  }
  return out;
}

GenerateOptions Greedy(uint32_t max_tokens) {
  GenerateOptions o;
  o.sampling.temperature = 0.0f;
  o.max_tokens = max_tokens;
  o.stop_ids = {kEos, kTurnEnd};
  return o;
}

TEST(Generate, GreedyMatchesAHandWrittenArgmaxLoop) {
  const tok::Tokenizer tok = tok::Tokenizer::Load(TinyModel().string());
  const auto prompt = RawPrompt(tok, kPrompt);
  const auto expected = ReferenceGreedy(prompt, 8, {kEos, kTurnEnd});
  auto engine = CpuEngine();
  std::vector<int32_t> streamed;
  const GenerateStats s = Generate(*engine, prompt, Greedy(8), [&](int32_t id) { streamed.push_back(id); });
  EXPECT_EQ(s.tokens, expected);
  EXPECT_EQ(streamed, expected);
  EXPECT_EQ(s.prompt_tokens, prompt.size());
  EXPECT_EQ(s.generated_tokens, expected.size());
  EXPECT_EQ(s.decode_steps, expected.size() - 1);
  EXPECT_EQ(s.stop, expected.size() == 8 ? StopReason::kMaxTokens : StopReason::kStopToken);
  EXPECT_EQ(engine->n_past(), prompt.size() + expected.size() - 1);  // the last token is not evaluated
  EXPECT_GT(s.time_to_first_token_s, 0.0);
  EXPECT_GT(s.prefill_tokens_per_s(), 0.0);
  EXPECT_GT(s.decode_tokens_per_s(), 0.0);
}

TEST(Generate, StopsAtAStopToken) {
  const tok::Tokenizer tok = tok::Tokenizer::Load(TinyModel().string());
  const auto prompt = RawPrompt(tok, kPrompt);
  const auto free_run = ReferenceGreedy(prompt, 8, {});
  // Declare the third generated token a stop token: generation ends right there.
  auto engine = CpuEngine();
  GenerateOptions o = Greedy(8);
  o.stop_ids = {free_run[2]};
  const GenerateStats s = Generate(*engine, prompt, o, nullptr);
  const auto first = std::find(free_run.begin(), free_run.end(), free_run[2]);
  EXPECT_EQ(s.tokens, std::vector<int32_t>(free_run.begin(), first + 1));
  EXPECT_EQ(s.stop, StopReason::kStopToken);
}

TEST(Generate, ContinuingACachedPrefixEqualsOneFreshPrompt) {
  const tok::Tokenizer tok = tok::Tokenizer::Load(TinyModel().string());
  const auto prompt = RawPrompt(tok, kPrompt);
  auto whole = CpuEngine();
  const auto expected = Generate(*whole, prompt, Greedy(6), nullptr).tokens;
  auto split = CpuEngine();
  const size_t cut = 7;
  split->Forward(std::span<const int32_t>(prompt.data(), cut), false);
  GenerateOptions o = Greedy(6);
  o.history = std::span<const int32_t>(prompt.data(), cut);
  const auto s = Generate(*split, std::span<const int32_t>(prompt.data() + cut, prompt.size() - cut), o, nullptr);
  EXPECT_EQ(s.tokens, expected);
  EXPECT_EQ(s.prompt_tokens, prompt.size() - cut);
}

TEST(Generate, CancelStopsAfterTheCurrentToken) {
  const tok::Tokenizer tok = tok::Tokenizer::Load(TinyModel().string());
  auto engine = CpuEngine();
  std::atomic<bool> cancel{false};
  GenerateOptions o = Greedy(0);
  o.stop_ids = {};
  o.cancel = &cancel;
  const auto s = Generate(*engine, RawPrompt(tok, kPrompt), o, [&](int32_t) {
    static int n = 0;
    if (++n == 3) cancel = true;
  });
  EXPECT_EQ(s.tokens.size(), 3u);
  EXPECT_EQ(s.stop, StopReason::kCancelled);
  cancel = true;  // set before the call: nothing is evaluated
  engine->Reset();
  const auto t = Generate(*engine, RawPrompt(tok, kPrompt), o, nullptr);
  EXPECT_TRUE(t.tokens.empty());
  EXPECT_EQ(engine->n_past(), 0u);
}

TEST(Generate, StopsWhenTheContextIsFullAndRefusesLongPrompts) {
  const tok::Tokenizer tok = tok::Tokenizer::Load(TinyModel().string());
  const auto prompt = RawPrompt(tok, kPrompt);  // 20 tokens
  auto engine = CpuEngine(/*context=*/uint32_t(prompt.size() + 3));
  GenerateOptions o = Greedy(0);
  o.stop_ids = {};
  const auto s = Generate(*engine, prompt, o, nullptr);
  EXPECT_EQ(s.stop, StopReason::kContextFull);
  EXPECT_EQ(s.tokens.size(), 4u);  // 3 evaluated + the last one sampled from the full context
  EXPECT_EQ(engine->n_past(), prompt.size() + 3);

  auto small = CpuEngine(/*context=*/5);
  try {
    Generate(*small, prompt, o, nullptr);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "the prompt has 20 tokens but the context holds 5 (raise --ctx)");
  }
  EXPECT_EQ(small->n_past(), 0u);
  EXPECT_THROW(Generate(*small, std::vector<int32_t>{}, o, nullptr), Error);
}

TEST(Generate, StopTokenIdsJoinTheConfigAndTheTokenizer) {
  const tok::Tokenizer tok = tok::Tokenizer::Load(TinyModel().string());
  GenerationConfig c;
  c.eos_token_ids = {1, 50};
  EXPECT_EQ(StopTokenIds(tok, c), (std::vector<int32_t>{kEos, kTurnEnd, 50}));
}

TEST(Generate, SeededSamplingIsReproducible) {
  const tok::Tokenizer tok = tok::Tokenizer::Load(TinyModel().string());
  auto run = [&](uint64_t seed) {
    auto engine = CpuEngine();
    GenerateOptions o;
    o.sampling.temperature = 1.5f;
    o.sampling.seed = seed;
    o.max_tokens = 10;
    return Generate(*engine, RawPrompt(tok, kPrompt), o, nullptr).tokens;
  };
  EXPECT_EQ(run(3), run(3));
  EXPECT_NE(run(3), run(4));
}

// ---- vkgemma run, end to end ------------------------------------------------------------------

std::vector<int32_t> PrintedIds(const std::string& err) {
  const std::string key = "generated ids: ";
  const size_t at = err.find(key);
  std::vector<int32_t> ids;
  if (at == std::string::npos) return ids;
  std::stringstream in(err.substr(at + key.size(), err.find('\n', at) - at - key.size()));
  std::string item;
  while (std::getline(in, item, ',')) ids.push_back(std::stoi(item));
  return ids;
}

std::string Text(const tok::Tokenizer& tok, const std::vector<int32_t>& ids, const std::vector<int32_t>& stops) {
  tok::StreamDecoder d(tok);
  std::string s;
  for (int32_t id : ids) {
    if (std::find(stops.begin(), stops.end(), id) == stops.end()) s += d.Push(id);
  }
  return s + d.Finish();
}

TEST(GpuRun, GreedyTextEqualsTheReferenceEnginesTokens) {
  const tok::Tokenizer tok = tok::Tokenizer::Load(TinyModel().string());
  const std::vector<int32_t> stops = {kEos, kTurnEnd};
  const auto expected = ReferenceGreedy(RawPrompt(tok, kPrompt), 8, stops);
  ASSERT_GE(expected.size(), 3u);
  const std::string text = Text(tok, expected, stops);
  const std::string args = "run -m " + TinyModel().string() + " --raw --temp 0 -n 8 --print-ids -p '" + kPrompt + "'";

  const test::CommandOutput cpu = test::RunVkgemma(args + " --device cpu");
  ASSERT_EQ(cpu.rc, 0) << cpu.err;
  EXPECT_EQ(PrintedIds(cpu.err), expected) << cpu.err;
  EXPECT_EQ(cpu.out, text);

  // The default (GPU) device with exact weights and KV cache: the same tokens, the same bytes.
  const test::CommandOutput gpu = test::RunVkgemma(args + " --weights f32 --kv f32");
  ASSERT_EQ(gpu.rc, 0) << gpu.err;
  EXPECT_EQ(PrintedIds(gpu.err), expected) << gpu.err;
  EXPECT_EQ(gpu.out, text);
  EXPECT_EQ(gpu.err.find("validation"), std::string::npos) << gpu.err;
  EXPECT_NE(gpu.err.find("time to first token"), std::string::npos) << gpu.err;
  EXPECT_NE(gpu.err.find("tokens/s"), std::string::npos) << gpu.err;
}

}  // namespace
}  // namespace vkg
