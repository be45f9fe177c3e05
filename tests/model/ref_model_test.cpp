// The CPU reference model used incrementally: prefill-then-decode and chunked prefill must equal
// one-shot prefill, on prompts several times longer than the sliding window, for every variant;
// the KV cache stays bounded on sliding layers. Also: layouts that must not change the numbers
// (shards, text-only names) and the config knobs the fixtures do not cover (untied head, no cap).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "host/model/checkpoint.h"
#include "host/reference/ref_model.h"
#include "tests/model/test_helpers.h"

namespace vkg {
namespace {

namespace fs = std::filesystem;

float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float m = 0.f;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

// Runs `tokens` through a fresh cache in chunks of the given sizes (the last size repeats) and
// concatenates the logits; the cache is handed back for inspection.
std::vector<float> RunChunked(const ref::Model& m, const std::vector<int32_t>& tokens, const std::vector<int>& chunks,
                              ref::KvCache* cache_out = nullptr) {
  ref::KvCache cache(m.config());
  std::vector<float> all;
  size_t pos = 0, c = 0;
  while (pos < tokens.size()) {
    const size_t n = std::min(tokens.size() - pos, size_t(chunks[std::min(c++, chunks.size() - 1)]));
    const auto lg = m.Forward(std::span(tokens).subspan(pos, n), int(pos), cache);
    all.insert(all.end(), lg.begin(), lg.end());
    pos += n;
  }
  if (cache_out) *cache_out = cache;
  return all;
}

// The reference computes every row independently with the same loop order whatever the chunking,
// so the results are expected to be bit-identical; the gate is 1e-5 absolute.
constexpr float kIncrementalTol = 1e-5f;

class IncrementalTest : public ::testing::TestWithParam<const char*> {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir("incremental");
    for (const char* v : {"dense", "ple", "e4b", "moe", "unified"}) {
      ASSERT_EQ(
          test::RunMakeCheckpoint("--out " + (dir_->path() / v).string() + " --variant " + v + " --seed 11 --window 6"),
          0)
          << v;
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static test::TempDir* dir_;
};
test::TempDir* IncrementalTest::dir_ = nullptr;

TEST_P(IncrementalTest, DecodeAndChunkedPrefillEqualOneShot) {
  const Checkpoint ckpt = Checkpoint::Load(dir_->path() / GetParam());
  const ref::Model model(ckpt);
  const ModelConfig& c = ckpt.config();
  const int n = 40;  // window 6: the prompt is more than 6 windows long
  const std::vector<int32_t> tokens = test::RandomTokens(n, c.vocab_size, 5);

  ref::KvCache one_cache(c);
  const std::vector<float> one = model.Forward(tokens, 0, one_cache);
  ASSERT_EQ(one.size(), size_t(n) * size_t(c.vocab_size));
  for (float v : one) ASSERT_TRUE(std::isfinite(v));
  // A real model, not a constant: logits vary across positions.
  EXPECT_GT(MaxAbsDiff(std::vector<float>(one.begin(), one.begin() + c.vocab_size),
                       std::vector<float>(one.end() - c.vocab_size, one.end())),
            0.1f);

  // Prefill 9 tokens, then decode one at a time.
  ref::KvCache dec_cache(c);
  const std::vector<float> dec = RunChunked(model, tokens, {9, 1}, &dec_cache);
  EXPECT_LE(MaxAbsDiff(one, dec), kIncrementalTol);
  // Chunks of uneven sizes, smaller and larger than the window (the ring grows and re-lays).
  ref::KvCache chunk_cache(c);
  const std::vector<float> chunked = RunChunked(model, tokens, {1, 3, 5, 2, 8, 13}, &chunk_cache);
  EXPECT_LE(MaxAbsDiff(one, chunked), kIncrementalTol);

  // Cache sizes: full layers hold the context, sliding layers window - 1 + largest chunk, and
  // KV-shared layers nothing.
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const LayerInfo& li = c.layers[size_t(l)];
    if (!li.owns_kv(l)) {
      EXPECT_EQ(chunk_cache.slots(l), 0) << "layer " << l;
    } else if (li.full) {
      EXPECT_EQ(chunk_cache.slots(l), n) << "layer " << l;
    } else {
      EXPECT_EQ(dec_cache.slots(l), li.window - 1 + 9) << "layer " << l;
      EXPECT_EQ(chunk_cache.slots(l), li.window - 1 + 13) << "layer " << l;
    }
  }
  EXPECT_EQ(chunk_cache.n_past(), n);
}

TEST_P(IncrementalTest, StartPosMustMatchCache) {
  const Checkpoint ckpt = Checkpoint::Load(dir_->path() / GetParam());
  const ref::Model model(ckpt);
  ref::KvCache cache(ckpt.config());
  const std::vector<int32_t> t = {2, 3};
  EXPECT_THROW(model.Forward(t, 1, cache), std::invalid_argument);
  model.Forward(t, 0, cache);
  EXPECT_EQ(cache.n_past(), 2);
  cache.Reset();
  EXPECT_EQ(cache.n_past(), 0);
}

INSTANTIATE_TEST_SUITE_P(Variants, IncrementalTest, ::testing::Values("dense", "ple", "e4b", "moe", "unified"),
                         [](const auto& info) { return std::string(info.param); });

// Masks: layer 0 is sliding, so its output at position p depends only on tokens p-W+1 .. p; the
// full layer at the end sees everything. Two prompts that differ only in token 0 must agree after
// layer 0 beyond the window, disagree inside it, and give different final logits at the end.
TEST(RefModelTest, SlidingLayersSeeOnlyTheirWindowFullLayersEverything) {
  test::TempDir dir("masks");
  ASSERT_EQ(test::RunMakeCheckpoint("--out " + dir.path().string() + " --variant dense --window 4"), 0);
  const Checkpoint ckpt = Checkpoint::Load(dir.path());
  ASSERT_FALSE(ckpt.config().layers[0].full);
  const ref::Model model(ckpt);
  const int H = ckpt.config().hidden_size, n = 24, W = 4;
  std::vector<int32_t> a = test::RandomTokens(n, 256, 1), b = a;
  b[0] = (b[0] + 1) % 256;
  auto run = [&](const std::vector<int32_t>& t, std::vector<float>* layer0) {
    ref::KvCache cache(ckpt.config());
    return model.Forward(t, 0, cache, [&](int l, const float* x, int T) {
      if (l == 0) layer0->assign(x, x + size_t(T) * size_t(H));
    });
  };
  std::vector<float> xa, xb;
  const auto la = run(a, &xa), lb = run(b, &xb);
  auto row = [&](const std::vector<float>& v, int p, int width) {
    return std::vector<float>(v.begin() + std::ptrdiff_t(p) * width, v.begin() + std::ptrdiff_t(p + 1) * width);
  };
  EXPECT_GT(MaxAbsDiff(row(xa, W - 1, H), row(xb, W - 1, H)), 0.f);  // token 0 still in the window
  for (int p = W; p < n; ++p) EXPECT_EQ(row(xa, p, H), row(xb, p, H)) << "position " << p;
  EXPECT_GT(MaxAbsDiff(row(la, n - 1, 256), row(lb, n - 1, 256)), 1e-4f);
}

// Same seed -> same weights, whatever the file layout: shards and text-only ("model." names,
// flat config) must give identical logits to the released single-file layout.
TEST(RefModelTest, ShardedAndTextOnlyLayoutsGiveIdenticalLogits) {
  test::TempDir dir("layouts");
  const std::string base = "--variant e4b --seed 3 --out " + dir.path().string();
  ASSERT_EQ(test::RunMakeCheckpoint(base + "/single"), 0);
  ASSERT_EQ(test::RunMakeCheckpoint(base + "/sharded --shards 3"), 0);
  ASSERT_EQ(test::RunMakeCheckpoint(base + "/flat --text-only"), 0);
  const std::vector<int32_t> tokens = test::RandomTokens(12, 256, 9);
  std::vector<std::vector<float>> out;
  for (const char* sub : {"single", "sharded", "flat"}) {
    const Checkpoint ckpt = Checkpoint::Load(dir.path() / sub);
    const ref::Model model(ckpt);
    ref::KvCache cache(ckpt.config());
    out.push_back(model.Forward(tokens, 0, cache));
  }
  EXPECT_EQ(out[0], out[1]);
  EXPECT_EQ(out[0], out[2]);
}

// Untied head (lm_head.weight stored) and no final softcap: logits exceed 30 in magnitude only
// when uncapped, and differ from the tied model.
TEST(RefModelTest, UntiedHeadAndNoSoftcap) {
  test::TempDir dir("untied");
  ASSERT_EQ(test::RunMakeCheckpoint("--out " + (dir.path() / "u").string() + " --untied --softcap 0 --seed 4"), 0);
  ASSERT_EQ(test::RunMakeCheckpoint("--out " + (dir.path() / "t").string() + " --softcap 0 --seed 4"), 0);
  const Checkpoint u = Checkpoint::Load(dir.path() / "u");
  const Checkpoint t = Checkpoint::Load(dir.path() / "t");
  EXPECT_FALSE(u.config().tie_word_embeddings);
  EXPECT_EQ(u.config().final_logit_softcapping, 0.f);
  ASSERT_NE(u.weights().Find("lm_head.weight"), nullptr);
  const std::vector<int32_t> tokens = test::RandomTokens(6, 256, 2);
  ref::KvCache cu(u.config()), ct(t.config());
  const auto lu = ref::Model(u).Forward(tokens, 0, cu);
  const auto lt = ref::Model(t).Forward(tokens, 0, ct);
  EXPECT_GT(MaxAbsDiff(lu, lt), 1e-2f);
}

// Real Gemma 4 head geometry (256 / 512, 64 rotated pairs on full layers) at a small width,
// so the partial-rotary and GQA paths run at their released sizes.
TEST(RefModelTest, RealHeadDimsRunAndStayIncremental) {
  test::TempDir dir("realdims");
  ASSERT_EQ(test::RunMakeCheckpoint("--out " + dir.path().string() +
                                    " --variant ple --hidden 96 --heads 8 --kv-heads 1 --head-dim 256"
                                    " --global-head-dim 512 --intermediate 128 --layers 6 --full-every 3 --kv-shared 2"
                                    " --window 4 --vocab 300"),
            0);
  const Checkpoint ckpt = Checkpoint::Load(dir.path());
  EXPECT_EQ(ckpt.config().layers[5].rope_pairs, 64);
  EXPECT_EQ(ckpt.config().layers[5].kv_source_layer, 2);
  EXPECT_EQ(ckpt.config().layers[4].kv_source_layer, 3);
  const ref::Model model(ckpt);
  const std::vector<int32_t> tokens = test::RandomTokens(14, 300, 8);
  ref::KvCache one_cache(ckpt.config());
  const auto one = model.Forward(tokens, 0, one_cache);
  const auto dec = RunChunked(model, tokens, {5, 1});
  EXPECT_LE(MaxAbsDiff(one, dec), kIncrementalTol);
}

}  // namespace
}  // namespace vkg
