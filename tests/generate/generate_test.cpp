// Generate() on the CPU reference engine, and the end-to-end `vkgemma run` check: greedy text on
// the GPU equals the reference engine's greedy tokens. Tests named Gpu* need a Vulkan device.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "host/error.h"
#include "host/runtime/engine.h"
#include "host/runtime/generate.h"
#include "host/text/chat_template.h"
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

TEST(Generate, KeepPrefixDropOldestHalfKeepsThePrefixAndTheNewestHalfOfTheRest) {
  std::vector<int32_t> held(30);
  for (int32_t i = 0; i < 30; ++i) held[size_t(i)] = 100 + i;
  // keep 20 of a full context of 30: (30 - 20 - 1) / 2 = 4 of the other 10 stay, the newest.
  const auto kept = KeepPrefixDropOldestHalf(held, 20, 30);
  ASSERT_TRUE(kept);
  std::vector<int32_t> want(held.begin(), held.begin() + 20);
  want.insert(want.end(), {126, 127, 128, 129});
  EXPECT_EQ(*kept, want);
  // Room for the sampled token only: the prefix alone; none at all: no shift.
  EXPECT_EQ(KeepPrefixDropOldestHalf(held, 28, 30)->size(), 28u);
  EXPECT_FALSE(KeepPrefixDropOldestHalf(held, 29, 30));
  EXPECT_FALSE(KeepPrefixDropOldestHalf(held, 30, 30));
}

// --context-shift written out by hand on the reference engine: greedy tokens, and whenever the
// context is full a fresh engine evaluates the prompt, the newest (context - prompt - 1) / 2 tokens
// and the token just sampled. `seq` ends as the tokens the engine holds.
struct Shifted {
  std::vector<int32_t> tokens, seq;
  uint32_t shifts = 0;
};
Shifted ShiftedGreedy(const std::vector<int32_t>& prompt, uint32_t context, size_t n) {
  Shifted r;
  r.seq = prompt;
  auto engine = CpuEngine(context);
  const size_t V = size_t(engine->config().vocab_size);
  const size_t keep_reply = (context - prompt.size() - 1) / 2;
  std::vector<float> logits = engine->Forward(prompt, false);
  for (;;) {
    const int32_t id = int32_t(std::max_element(logits.begin(), logits.begin() + std::ptrdiff_t(V)) - logits.begin());
    r.tokens.push_back(id);
    if (r.tokens.size() == n) break;
    if (r.seq.size() == context) {
      std::vector<int32_t> kept(prompt);
      kept.insert(kept.end(), r.seq.end() - std::ptrdiff_t(keep_reply), r.seq.end());
      kept.push_back(id);
      engine->Reset();
      logits = engine->Forward(kept, false);
      ++r.shifts;
      r.seq = kept;
    } else {
      logits = engine->Forward(std::vector<int32_t>{id}, false);
      r.seq.push_back(id);
    }
  }
  return r;
}

// Generate's context shift equals the hand-written one, and counts its cost.
TEST(Generate, ContextShiftGoesOnWithThePromptAndTheNewestHalfOfTheReply) {
  const tok::Tokenizer tok = tok::Tokenizer::Load(TinyModel().string());
  const auto prompt = RawPrompt(tok, kPrompt);  // 20 tokens
  constexpr uint32_t kContext = 30, kTokens = 25;
  const Shifted want = ShiftedGreedy(prompt, kContext, kTokens);
  // Each shift keeps the prompt and (30 - 20 - 1) / 2 = 4 reply tokens: at the 11th, 17th and
  // 23rd tokens (full after 10, then every 6).
  ASSERT_EQ(want.shifts, 3u);
  const std::vector<int32_t>& expected = want.tokens;
  const std::vector<int32_t>& seq = want.seq;
  const uint32_t shifts = want.shifts;

  auto engine = CpuEngine(kContext);
  GenerateOptions o = Greedy(kTokens);
  o.stop_ids = {};
  o.context_shift = [&](std::span<const int32_t> held) {
    return KeepPrefixDropOldestHalf(held, prompt.size(), kContext);
  };
  const auto s = Generate(*engine, prompt, o, nullptr);
  EXPECT_EQ(s.stop, StopReason::kMaxTokens);
  EXPECT_EQ(s.tokens, expected);
  EXPECT_EQ(s.context_shifts, shifts);
  // The reference engine's rings hold window + 20 - 1 slots (grown for the prompt's chunk), so
  // Truncate keeps the prompt and a shift evaluates only the 4 kept reply tokens and the new one.
  EXPECT_EQ(s.shift_tokens, 3u * 5u);
  EXPECT_EQ(s.held, seq);
  EXPECT_EQ(engine->n_past(), seq.size());

  // A shift that cannot make room ends generation as a full context does.
  auto again = CpuEngine(kContext);
  o.context_shift = [](std::span<const int32_t>) { return std::optional<std::vector<int32_t>>(); };
  const auto t = Generate(*again, prompt, o, nullptr);
  EXPECT_EQ(t.stop, StopReason::kContextFull);
  EXPECT_EQ(t.tokens, std::vector<int32_t>(expected.begin(), expected.begin() + 11));
  EXPECT_EQ(t.context_shifts, 0u);
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

// `run --ignore-eos -n N` gives exactly N tokens; a full context ends the reply with a clear
// finish line and exit 0; --context-shift goes on as ShiftedGreedy does (reference engine).
TEST(RunCli, IgnoreEosContextFullAndContextShift) {
  const tok::Tokenizer tok = tok::Tokenizer::Load(TinyModel().string());
  const auto prompt = RawPrompt(tok, kPrompt);  // 20 tokens
  const std::string args =
      "run -m " + TinyModel().string() + " --raw --temp 0 --print-ids --device cpu -p '" + kPrompt + "' --ignore-eos";

  const test::CommandOutput n30 = test::RunVkgemma(args + " -n 30");
  ASSERT_EQ(n30.rc, 0) << n30.err;
  EXPECT_EQ(PrintedIds(n30.err), ReferenceGreedy(prompt, 30, {})) << n30.err;
  EXPECT_NE(n30.err.find("| stop: token limit\n"), std::string::npos) << n30.err;

  // 26 positions: 6 reply tokens evaluated, the 7th sampled from the full context.
  const test::CommandOutput full = test::RunVkgemma(args + " -n 100 --ctx 26");
  ASSERT_EQ(full.rc, 0) << full.err;
  EXPECT_EQ(PrintedIds(full.err), ReferenceGreedy(prompt, 7, {})) << full.err;
  EXPECT_NE(full.err.find("| stop: context full\n"), std::string::npos) << full.err;
  EXPECT_NE(full.err.find("\nstopped: context full (26 tokens); --context-shift goes on past it\n"), std::string::npos)
      << full.err;

  const Shifted want = ShiftedGreedy(prompt, 30, 25);
  const test::CommandOutput shifted = test::RunVkgemma(args + " -n 25 --ctx 30 --context-shift");
  ASSERT_EQ(shifted.rc, 0) << shifted.err;
  EXPECT_EQ(PrintedIds(shifted.err), want.tokens) << shifted.err;
  EXPECT_NE(shifted.err.find("| stop: token limit | context shifts: 3, "), std::string::npos) << shifted.err;
  EXPECT_EQ(shifted.err.find("stopped:"), std::string::npos) << shifted.err;

  // The prompt alone fills all but one position: nothing can be dropped, so it stops.
  const test::CommandOutput no_room = test::RunVkgemma(args + " -n 25 --ctx 21 --context-shift");
  ASSERT_EQ(no_room.rc, 0) << no_room.err;
  EXPECT_EQ(PrintedIds(no_room.err).size(), 2u) << no_room.err;
  EXPECT_NE(no_room.err.find("\nstopped: context full (21 tokens): the prompt alone leaves no room to shift\n"),
            std::string::npos)
      << no_room.err;
}

// `chat` with piped stdin (reference engine): a reply that fills the context stops with a finish
// line and the next message is refused with one error line; with --context-shift the oldest turns
// go before a turn, and a reply longer than the context goes on as ShiftedGreedy does.
TEST(ChatCli, ContextFullAndContextShift) {
  const tok::Tokenizer tok = tok::Tokenizer::Load(TinyModel().string());
  const fs::path input = fs::temp_directory_path() / ("vkg_chat_input_" + std::to_string(::getpid()));
  auto chat = [&](const std::string& lines, const std::string& flags) {
    std::ofstream(input) << lines;
    return test::RunVkgemma("chat -m " + TinyModel().string() + " --device cpu --temp 0 --ignore-eos --stats " + flags +
                            " < " + input.string());
  };

  // "hi" is 28 tokens with the built-in template: 12 reply tokens fill 40 positions, the 13th is
  // sampled from the full context. The next conversation (the reply's bytes, re-encoded) has 83.
  const test::CommandOutput full = chat("hi\nagain\n", "--ctx 40");
  EXPECT_EQ(full.rc, 1) << full.err;
  EXPECT_NE(full.err.find("generated: 13 tokens"), std::string::npos) << full.err;
  EXPECT_NE(full.err.find("| stop: context full]\n"), std::string::npos) << full.err;
  EXPECT_NE(full.err.find("\nstopped: context full (40 tokens)\n"), std::string::npos) << full.err;
  EXPECT_NE(full.err.find("\nerror: the conversation has 83 tokens but the context holds 40 (/reset, raise --ctx, or "
                          "use --context-shift)\n"),
            std::string::npos)
      << full.err;

  // 20-token replies in 64 positions: turns 2 and 3 each find no room and drop the turn before.
  const test::CommandOutput turns = chat("hi\nagain\nmore\n", "--ctx 64 -n 20 --context-shift");
  EXPECT_EQ(turns.rc, 0) << turns.err;
  size_t dropped = 0;
  for (size_t at = 0; (at = turns.err.find("\n(context full: dropped the oldest 1 turn)\n", at)) != std::string::npos;
       ++at)
    ++dropped;
  EXPECT_EQ(dropped, 2u) << turns.err;
  EXPECT_EQ(turns.err.find("stopped:"), std::string::npos) << turns.err;

  // One 100-token reply in 64 positions: the prompt stays and (64 - 28 - 1) / 2 = 17 reply tokens,
  // so shifts at the 37th, 56th, 75th and 94th tokens, each evaluating 18 tokens less those that
  // repeat what the cache holds at their positions (the reply repeats one byte: 6 in all).
  const std::vector<int32_t> prompt =
      ChatTemplate::Load(TinyModel().string()).Encode(tok, std::vector<ChatMessage>{{"user", "hi"}}, ChatOptions{});
  ASSERT_EQ(prompt.size(), 28u);
  const Shifted want = ShiftedGreedy(prompt, 64, 100);
  ASSERT_EQ(want.shifts, 4u);
  const test::CommandOutput reply = chat("hi\n", "--ctx 64 -n 100 --context-shift");
  EXPECT_EQ(reply.rc, 0) << reply.err;
  EXPECT_EQ(reply.out, Text(tok, want.tokens, {}) + "\n");
  EXPECT_NE(reply.err.find("\n(context full: 4 shifts dropped the reply's oldest tokens; 66 tokens evaluated again)\n"),
            std::string::npos)
      << reply.err;
  fs::remove(input);
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
