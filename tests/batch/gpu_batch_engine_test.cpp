// The GPU continuous-batching engine against Engine alone (tests/batch): 8 slots with prompts of
// different lengths fed in interleaved steps (some prefilling while others decode, slots joining
// late, a slot reset and reused, a Truncate reusing a prefix). Every input's logits must be
// bit-identical to a lone Engine (same device, options and kernel family) fed the same inputs:
// batched decode rows run the decode kernels' exact per-row arithmetic (matvec COLS), prompt
// chunks run the prefill kernels on their own rows, attention runs per slot with the lone plan.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "host/batch/gpu_batch_engine.h"
#include "host/batch/step_plan.h"
#include "host/error.h"
#include "host/runtime/engine.h"
#include "tests/model/test_helpers.h"
#include "tests/sweep.h"

namespace vkg::test {
namespace {

std::vector<int32_t> Tokens(uint32_t n, uint32_t seed, int vocab) {
  std::vector<int32_t> t(n);
  uint32_t s = seed * 2654435761u + 1;
  for (uint32_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    t[i] = int32_t((s >> 8) % uint32_t(vocab));
  }
  t[0] = 2;  // <bos>
  return t;
}

int32_t Argmax(const std::vector<float>& v) { return int32_t(std::max_element(v.begin(), v.end()) - v.begin()); }

// What happened to one slot, in order: inputs with the logits the batch engine returned, resets
// and truncations. A lone Engine replays it and must return the same logits for every input.
struct Event {
  enum Kind { kInput, kReset, kTruncate } kind;
  std::vector<int32_t> tokens;
  std::vector<float> logits;
  uint32_t n = 0;
};

struct Case {
  std::string variant;
  DType weights;
  KernelFamily kernels;
  // Set: the variant written as a GGUF file of this --gguf-type and run without --weights (each
  // matrix in its stored type; `weights` unused), at K-quant-sized shapes.
  const char* gguf = nullptr;
  // Label "long": run in CI's sample (tests/sweep.h), else only with VKG_SWEEP=full.
  bool in_ci_sample = true;
};

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  std::string w(info.param.gguf ? std::string("gguf_") + info.param.gguf : DTypeName(info.param.weights));
  w.erase(std::remove(w.begin(), w.end(), '_'), w.end());
  return info.param.variant + "_" + w + (info.param.kernels == KernelFamily::kGpu ? "_gpu" : "_cpu");
}

class BatchVsAloneTest : public ::testing::TestWithParam<Case> {
 protected:
  // The model: the fixture, or the GGUF file written from the variant (tmp_ keeps it).
  std::filesystem::path Model() {
    if (!GetParam().gguf) return FixtureDir(GetParam().variant);
    tmp_ = std::make_unique<TempDir>(std::string("batch_gguf_") + GetParam().gguf);
    const auto gguf = tmp_->path() / "m.gguf";
    EXPECT_EQ(RunMakeCheckpoint("--out " + (tmp_->path() / "ckpt").string() + " --variant " + GetParam().variant +
                                " --seed 4 --hidden 256 --intermediate 512 --heads 4 --head-dim 64 "
                                "--global-head-dim 128 --ple-dim 256 --vocab 512 --gguf " +
                                gguf.string() + " --gguf-type " + GetParam().gguf),
              0);
    return gguf;
  }
  EngineOptions Options() const {
    EngineOptions o;
    if (!GetParam().gguf) o.weights = GetParam().weights;
    o.kernels = GetParam().kernels;
    o.batch = 8;  // prompts of 9..24 tokens take several chunks, some ending in a 1-token chunk
    o.context = 64;
    return o;
  }
  std::unique_ptr<TempDir> tmp_;
};

TEST_P(BatchVsAloneTest, EverySlotEqualsEngineAloneBitForBit) {
  VKG_SWEEP_SAMPLE(GetParam().in_ci_sample);
  constexpr uint32_t kSlots = 8;
  const auto dir = Model();
  auto batch = OpenGpuBatchEngine(dir.string(), Options(), kSlots);
  const int vocab = batch->config().vocab_size;
  std::map<uint32_t, std::vector<Event>> history;
  std::map<uint32_t, std::vector<int32_t>> pending;  // each active slot's next input

  // Prompts of different lengths; slots 5-7 join late, slot 2 is reset and reused, slot 1 truncated.
  const uint32_t lengths[kSlots] = {5, 17, 1, 12, 9, 3, 24, 2};
  auto join = [&](uint32_t slot, uint32_t seed) { pending[slot] = Tokens(lengths[slot], seed, vocab); };
  for (uint32_t s = 0; s < 5; ++s) join(s, s);
  for (int step = 0; step < 12; ++step) {
    if (step == 2) join(5, 5);
    if (step == 3) join(6, 6), join(7, 7);
    if (step == 5) {  // slot 2 finished: reset and reused by a new request
      batch->Reset(2);
      history[2].push_back({Event::kReset});
      pending[2] = Tokens(10, 22, vocab);
    }
    if (step == 7) {  // slot 1: the client's conversation shares all but its last 3 positions
      const uint32_t n = batch->n_past(1) - 3;
      ASSERT_TRUE(batch->Truncate(1, n));
      history[1].push_back({Event::kTruncate, {}, {}, n});
      pending[1] = Tokens(4, 11, vocab);
    }
    std::vector<BatchEngine::SlotInput> inputs;
    for (auto& [slot, tokens] : pending) inputs.push_back({slot, tokens});
    const std::vector<std::vector<float>> logits = batch->Step(inputs);
    ASSERT_EQ(logits.size(), inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const uint32_t slot = inputs[i].slot;
      ASSERT_EQ(logits[i].size(), size_t(vocab));
      history[slot].push_back({Event::kInput, pending[slot], logits[i]});
    }
    for (size_t i = 0; i < inputs.size(); ++i) pending[inputs[i].slot] = {Argmax(logits[i])};  // greedy decode
  }
  EXPECT_EQ(batch->validation_messages(), 0);

  auto alone = Engine::Open(dir.string(), Options());
  for (const auto& [slot, events] : history) {
    alone->Reset();
    int input = 0;
    for (const Event& e : events) {
      if (e.kind == Event::kReset) alone->Reset();
      if (e.kind == Event::kTruncate) {
        ASSERT_TRUE(alone->Truncate(e.n));
      }
      if (e.kind != Event::kInput) continue;
      const std::vector<float> want = alone->Forward(e.tokens, false);
      ASSERT_EQ(want.size(), e.logits.size());
      EXPECT_EQ(std::memcmp(want.data(), e.logits.data(), want.size() * 4), 0)
          << "slot " << slot << " input " << input << " (" << e.tokens.size() << " tokens at position "
          << alone->n_past() - e.tokens.size() << "): batched logits differ from alone, argmax " << Argmax(e.logits)
          << " vs " << Argmax(want);
      ++input;
    }
    EXPECT_EQ(alone->n_past(), batch->n_past(slot)) << "slot " << slot;
  }
  EXPECT_EQ(alone->validation_messages(), 0);
}

INSTANTIATE_TEST_SUITE_P(Formats, BatchVsAloneTest,
                         // Every format once per family at least (the products' per-format identity is checked for
                         // all of them in batched_decode_products_test). Each case compiles a model's pipelines on
                         // lavapipe (30-60 s): CI's sample keeps every variant, both families, a float, q8_0, q4_0 and
                         // the mixed K-quant file; VKG_SWEEP=full adds the other four.
                         ::testing::Values(Case{"ple", DType::BF16, KernelFamily::kGpu},
                                           Case{"ple", DType::BF16, KernelFamily::kCpu, nullptr, false},
                                           Case{"ple", DType::F32, KernelFamily::kGpu, nullptr, false},
                                           Case{"ple", DType::Q8_0, KernelFamily::kCpu},
                                           Case{"ple", DType::Q4_0, KernelFamily::kGpu, nullptr, false},
                                           Case{"dense", DType::BF16, KernelFamily::kGpu, nullptr, false},
                                           Case{"dense", DType::Q4_0, KernelFamily::kCpu},
                                           Case{"moe", DType::BF16, KernelFamily::kGpu},
                                           // A Q4_K_M file: Q4_K and Q6_K matrices as stored, q|k|v
                                           // stacks of both types (WeightMatrix::parts) on even layers.
                                           Case{"ple", DType::F32, KernelFamily::kGpu, "q4_k_m"}),
                         CaseName);

// ---- Errors: the exact message, and nothing evaluated ----

class BatchErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions o;
    o.context = 16;
    o.batch = 8;
    engine_ = OpenGpuBatchEngine(FixtureDir("ple").string(), o, 3);
  }
  void ExpectError(std::span<const BatchEngine::SlotInput> inputs, const std::string& message) {
    try {
      engine_->Step(inputs);
      ADD_FAILURE() << "no error, expected: " << message;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), message);
    }
  }
  std::unique_ptr<BatchEngine> engine_;
};

TEST_F(BatchErrorsTest, RepeatedSlotEvaluatesNothing) {
  const std::vector<int32_t> a{2, 10, 11}, b{2, 12};
  const BatchEngine::SlotInput inputs[] = {{0, a}, {1, b}, {0, b}};
  ExpectError(inputs, "slot 0 appears twice in one step");
  EXPECT_EQ(engine_->n_past(0), 0u);
  EXPECT_EQ(engine_->n_past(1), 0u);
}

TEST_F(BatchErrorsTest, ContextOverflowEvaluatesNothing) {
  const std::vector<int32_t> a{2, 10, 11, 12, 13, 14, 15, 16, 17, 18}, b{2, 12};
  const BatchEngine::SlotInput first[] = {{0, a}};
  engine_->Step(first);
  ASSERT_EQ(engine_->n_past(0), 10u);
  const BatchEngine::SlotInput inputs[] = {{1, b}, {0, a}};
  ExpectError(inputs, "slot 0: the prompt needs 20 positions but the context holds 16 (raise --ctx)");
  EXPECT_EQ(engine_->n_past(0), 10u);
  EXPECT_EQ(engine_->n_past(1), 0u);
}

TEST_F(BatchErrorsTest, UnknownSlotAndEmptyInput) {
  const std::vector<int32_t> a{2, 10}, none;
  const BatchEngine::SlotInput unknown[] = {{3, a}};
  ExpectError(unknown, "slot 3 does not exist (3 slots)");
  const BatchEngine::SlotInput empty[] = {{1, none}};
  ExpectError(empty, "slot 1: an input needs at least one token");
  EXPECT_EQ(engine_->validation_messages(), 0);
}

// ---- The step plan (no device) ----

TEST(StepPlanTest, CutsInputsAsEngineAloneAndFillsPasses) {
  const uint32_t sizes[] = {1, 17, 3, 8};
  StepPlanOptions o;
  o.batch = 8;
  o.prefill_rows = 16;
  const std::vector<StepPass> passes = PlanStep(sizes, o);
  ASSERT_EQ(passes.size(), 3u);
  // Pass 0: the decode row of input 0, then chunks 17[0..8) and 3, while 8 waits (16 rows full).
  ASSERT_EQ(passes[0].chunks.size(), 3u);
  EXPECT_EQ(passes[0].decode_rows, 1u);
  EXPECT_TRUE(passes[0].chunks[0].replay && passes[0].chunks[0].last);
  EXPECT_EQ(passes[0].chunks[1].input, 1u);
  EXPECT_EQ(passes[0].chunks[1].row0, 1u);
  EXPECT_EQ(passes[0].chunks[2].input, 2u);
  EXPECT_EQ(passes[0].chunks[2].row0, 9u);
  EXPECT_EQ(passes[0].rows, 12u);
  // Pass 1: 17[8..16) and input 3; pass 2: the last token of 17 as a decode row (not replayed).
  ASSERT_EQ(passes[1].chunks.size(), 2u);
  EXPECT_EQ(passes[1].chunks[0].first, 8u);
  EXPECT_EQ(passes[1].chunks[1].input, 3u);
  ASSERT_EQ(passes[2].chunks.size(), 1u);
  EXPECT_TRUE(passes[2].chunks[0].decode);
  EXPECT_FALSE(passes[2].chunks[0].replay);
  EXPECT_TRUE(passes[2].chunks[0].last);
  EXPECT_EQ(passes[2].decode_rows, 1u);
}

}  // namespace
}  // namespace vkg::test
