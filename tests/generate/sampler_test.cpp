// Sampler and generation_config tests (CPU only).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "host/error.h"
#include "host/text/generation_config.h"
#include "host/text/sampler.h"

namespace vkg {
namespace {

std::vector<float> LogitsOfProbs(const std::vector<double>& probs) {
  std::vector<float> out;
  for (double p : probs) out.push_back(p > 0 ? float(std::log(p)) : -INFINITY);
  return out;
}

SamplingParams Plain(uint64_t seed = 7) {
  SamplingParams p;
  p.do_sample = true;
  p.temperature = 1.0f;
  p.seed = seed;
  return p;
}

std::set<int32_t> SampledSupport(const SamplingParams& params, const std::vector<float>& logits, int n = 4000) {
  Sampler s(params);
  std::set<int32_t> seen;
  for (int i = 0; i < n; ++i) seen.insert(s.Sample(logits));
  return seen;
}

TEST(Rng, SameSeedSameStreamAndKnownValues) {
  Rng a(42), b(42), c(43);
  std::vector<uint64_t> va, vb, vc;
  for (int i = 0; i < 100; ++i) va.push_back(a.Next()), vb.push_back(b.Next()), vc.push_back(c.Next());
  EXPECT_EQ(va, vb);
  EXPECT_NE(va, vc);
  // Pinned values: the stream must not depend on the platform or standard library.
  Rng z(0);
  EXPECT_EQ(z.Next(), 0x99ec5f36cb75f2b4ull);
  EXPECT_EQ(z.Next(), 0xbf6e1f784956452aull);
  Rng u(1);
  for (int i = 0; i < 1000; ++i) {
    const double x = u.Uniform();
    ASSERT_GE(x, 0.0);
    ASSERT_LT(x, 1.0);
  }
}

TEST(Sampler, SeededSamplingIsReproducible) {
  std::vector<float> logits(50);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = float(std::sin(double(i)) * 2.0);
  auto run = [&](uint64_t seed) {
    Sampler s(Plain(seed));
    std::vector<int32_t> ids;
    for (int i = 0; i < 200; ++i) ids.push_back(s.Sample(logits));
    return ids;
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
  const std::vector<int32_t> ids = run(5);
  EXPECT_GT(std::set<int32_t>(ids.begin(), ids.end()).size(), 10u);  // it really samples
}

TEST(Sampler, SamplesInProportionToProbabilities) {
  const auto logits = LogitsOfProbs({0.5, 0.3, 0.2});
  Sampler s(Plain());
  std::map<int32_t, int> count;
  const int n = 20000;
  for (int i = 0; i < n; ++i) ++count[s.Sample(logits)];
  EXPECT_NEAR(count[0] / double(n), 0.5, 0.02);
  EXPECT_NEAR(count[1] / double(n), 0.3, 0.02);
  EXPECT_NEAR(count[2] / double(n), 0.2, 0.02);
}

TEST(Sampler, TemperatureZeroAndDoSampleFalseAreGreedy) {
  const std::vector<float> logits = {0.1f, 2.0f, 1.9f, -3.0f, 2.0f};
  SamplingParams p = Plain();
  p.temperature = 0.0f;
  Sampler s(p);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(s.Sample(logits), 1);  // tie 1 vs 4: lower id
  SamplingParams q = Plain();
  q.do_sample = false;
  q.temperature = 5.0f;
  EXPECT_TRUE(q.greedy());
  Sampler g(q);
  EXPECT_EQ(g.Sample(logits), 1);
  const auto d = g.Distribution(logits);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].first, 1);
}

TEST(Sampler, LowTemperatureSharpensHighFlattens) {
  const auto logits = LogitsOfProbs({0.6, 0.4});
  SamplingParams cold = Plain(), hot = Plain();
  cold.temperature = 0.5f;
  hot.temperature = 2.0f;
  const auto dc = Sampler(cold).Distribution(logits);
  const auto dh = Sampler(hot).Distribution(logits);
  // p^(1/T) normalized: T=0.5 -> 0.36/0.52; T=2 -> sqrt(.6)/(sqrt(.6)+sqrt(.4)).
  EXPECT_NEAR(dc[0].second, 0.36 / 0.52, 1e-6);
  EXPECT_NEAR(dh[0].second, std::sqrt(0.6) / (std::sqrt(0.6) + std::sqrt(0.4)), 1e-6);
}

TEST(Sampler, TopKRestrictsTheSupport) {
  std::vector<float> logits(100, 0.0f);
  logits[17] = 3.0f, logits[42] = 2.9f, logits[3] = 2.8f, logits[99] = 2.7f;
  SamplingParams p = Plain();
  p.top_k = 3;
  EXPECT_EQ(SampledSupport(p, logits), (std::set<int32_t>{3, 17, 42}));
  p.top_k = 1;
  EXPECT_EQ(SampledSupport(p, logits, 200), (std::set<int32_t>{17}));
}

TEST(Sampler, TopPKeepsTheSmallestSetReachingP) {
  const auto logits = LogitsOfProbs({0.05, 0.4, 0.3, 0.15, 0.1});
  SamplingParams p = Plain();
  p.top_p = 0.7f;  // 0.4 + 0.3 reaches 0.7
  EXPECT_EQ(SampledSupport(p, logits), (std::set<int32_t>{1, 2}));
  p.top_p = 0.71f;  // needs the 0.15 too
  EXPECT_EQ(SampledSupport(p, logits), (std::set<int32_t>{1, 2, 3}));
  p.top_p = 0.01f;  // at least one token stays
  EXPECT_EQ(SampledSupport(p, logits, 200), (std::set<int32_t>{1}));
  // Renormalized over the survivors.
  p.top_p = 0.7f;
  const auto d = Sampler(p).Distribution(logits);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_NEAR(d[0].second, 0.4 / 0.7, 1e-6);
}

TEST(Sampler, TopKThenTopP) {
  const auto logits = LogitsOfProbs({0.4, 0.3, 0.2, 0.1});
  SamplingParams p = Plain();
  p.top_k = 2;     // {0.4, 0.3} -> renormalized 0.571, 0.429
  p.top_p = 0.5f;  // 0.571 already reaches it
  EXPECT_EQ(SampledSupport(p, logits, 500), (std::set<int32_t>{0}));
}

TEST(Sampler, MinPDropsTokensBelowAFractionOfTheTop) {
  const auto logits = LogitsOfProbs({0.5, 0.26, 0.24, 0.0});
  SamplingParams p = Plain();
  p.min_p = 0.5f;  // threshold 0.25
  EXPECT_EQ(SampledSupport(p, logits), (std::set<int32_t>{0, 1}));
  p.min_p = 0.0f;
  EXPECT_EQ(SampledSupport(p, logits), (std::set<int32_t>{0, 1, 2}));  // -inf never comes up
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  const std::vector<float> logits = {2.0f, 1.5f, -1.0f, -1.2f};
  SamplingParams p = Plain();
  p.temperature = 0.0f;
  p.repetition_penalty = 2.0f;
  Sampler s(p);
  EXPECT_EQ(s.Sample(logits), 0);
  s.Accept(0);  // 2.0 -> 1.0: token 1 (1.5) wins now
  EXPECT_EQ(s.Sample(logits), 1);
  s.Accept(std::vector<int32_t>{1, 1, 0});  // 1.5 -> 0.75 (once: distinct tokens), 2.0 stays 1.0
  EXPECT_EQ(s.Sample(logits), 0);
  // Negative logits move down: -1.0 -> -2.0 falls below -1.2.
  const std::vector<float> neg = {-1.0f, -1.2f};
  Sampler t(p);
  EXPECT_EQ(t.Sample(neg), 0);
  t.Accept(0);
  EXPECT_EQ(t.Sample(neg), 1);
  // Sampling mode: the exact penalized probabilities.
  SamplingParams q = Plain();
  q.repetition_penalty = 2.0f;
  Sampler u(q);
  u.Accept(0);
  const auto d = u.Distribution(std::vector<float>{2.0f, 1.0f});
  ASSERT_EQ(d.size(), 2u);
  EXPECT_NEAR(d[0].second, 0.5, 1e-9);  // both logits 1.0 now
  u.ClearHistory();
  EXPECT_NEAR(u.Distribution(std::vector<float>{2.0f, 1.0f})[0].second, 1.0 / (1.0 + std::exp(-1.0)), 1e-9);
}

// OpenAI's definition: logit[j] -= count[j] * frequency_penalty + (count[j] > 0) * presence_penalty,
// count[j] = how often j was generated; prompt tokens (Accept) are not counted.
TEST(Sampler, PresenceAndFrequencyPenaltiesFollowOpenAI) {
  const std::vector<float> logits = {3.0f, 2.0f, 1.0f, 0.0f};
  SamplingParams p = Plain();
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.25f;
  Sampler s(p);
  s.Accept(std::vector<int32_t>{0, 1});  // the prompt: no presence/frequency penalty
  auto expect_probs = [&](const std::vector<float>& penalized) {
    const auto d = s.Distribution(logits);
    ASSERT_EQ(d.size(), penalized.size());
    double sum = 0.0;
    for (float v : penalized) sum += std::exp(double(v));
    for (const auto& [id, prob] : d) EXPECT_NEAR(prob, std::exp(double(penalized[size_t(id)])) / sum, 1e-9) << id;
  };
  expect_probs({3.0f, 2.0f, 1.0f, 0.0f});
  s.AcceptGenerated(0);  // once: 3 - 0.25 - 0.5
  expect_probs({2.25f, 2.0f, 1.0f, 0.0f});
  s.AcceptGenerated(0);  // twice: 3 - 0.5 - 0.5; presence counts once
  s.AcceptGenerated(2);
  expect_probs({2.0f, 2.0f, 0.25f, 0.0f});
  s.ClearHistory();
  expect_probs({3.0f, 2.0f, 1.0f, 0.0f});

  // Negative penalties favour repetition; greedy sees the penalties too.
  SamplingParams g = Plain();
  g.temperature = 0.0f;
  g.presence_penalty = -2.0f;
  Sampler t(g);
  EXPECT_EQ(t.Sample(logits), 0);
  t.AcceptGenerated(1);  // 2 + 2 = 4 > 3
  EXPECT_EQ(t.Sample(logits), 1);
  g.presence_penalty = 0.0f;
  g.frequency_penalty = 0.6f;
  Sampler u(g);
  u.AcceptGenerated(0);  // 2.4 > 2
  EXPECT_EQ(u.Sample(logits), 0);
  u.AcceptGenerated(0);  // 1.8 < 2
  EXPECT_EQ(u.Sample(logits), 1);
  // The repetition penalty (prompt and reply) and these combine: 3 / 2 = 1.5, then - 0.6.
  g.repetition_penalty = 2.0f;
  Sampler v(g);
  v.AcceptGenerated(0);
  v.Accept(1);  // 2 / 2 = 1 > 0.9
  EXPECT_EQ(v.Sample(logits), 1);
}

TEST(Sampler, NanAndInfiniteLogitsNeverWin) {
  std::vector<float> logits = {NAN, -INFINITY, 0.5f, NAN};
  Sampler s(Plain());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(s.Sample(logits), 2);
}

// ---- generation_config.json -------------------------------------------------------------------

TEST(GenerationConfig, DefaultsFollowGemma4) {
  const GenerationConfig c;
  EXPECT_TRUE(c.do_sample);
  EXPECT_EQ(c.temperature, 1.0f);
  EXPECT_EQ(c.top_k, 64);
  EXPECT_FLOAT_EQ(c.top_p, 0.95f);
  EXPECT_EQ(c.eos_token_ids, std::vector<int32_t>{1});
  EXPECT_EQ(c.bos_token_id, 2);
  EXPECT_EQ(c.pad_token_id, 0);
  const auto dir = std::filesystem::temp_directory_path() / ("vkg_gencfg_none_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const GenerationConfig l = GenerationConfig::Load(dir);  // no file: defaults
  EXPECT_EQ(l.top_k, 64);
  std::filesystem::remove_all(dir);
}

TEST(GenerationConfig, ParsesTheReleasedFile) {
  const GenerationConfig c = GenerationConfig::Parse(R"({
    "bos_token_id": 2, "do_sample": true, "eos_token_id": [1, 106, 50], "pad_token_id": 0,
    "temperature": 1.0, "top_k": 64, "top_p": 0.95, "transformers_version": "5.0.0"})",
                                                     "g.json");
  EXPECT_EQ(c.eos_token_ids, (std::vector<int32_t>{1, 106, 50}));
  EXPECT_EQ(c.top_k, 64);
  const GenerationConfig d = GenerationConfig::Parse(
      R"({"eos_token_id": 7, "do_sample": false, "temperature": 0.3, "top_k": null, "min_p": 0.05,
          "repetition_penalty": 1.2})",
      "g.json");
  EXPECT_EQ(d.eos_token_ids, std::vector<int32_t>{7});
  EXPECT_FALSE(d.do_sample);
  EXPECT_FLOAT_EQ(d.temperature, 0.3f);
  EXPECT_EQ(d.top_k, 64);  // null: the default
  EXPECT_FLOAT_EQ(d.min_p, 0.05f);
  EXPECT_FLOAT_EQ(d.repetition_penalty, 1.2f);
  const SamplingParams p = SamplingParams::FromConfig(d, 9);
  EXPECT_TRUE(p.greedy());
  EXPECT_EQ(p.seed, 9u);
}

std::string ErrorOf(const std::string& text) {
  try {
    GenerationConfig::Parse(text, "/m/generation_config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(GenerationConfig, MalformedFilesGiveOneLineNamingTheFile) {
  EXPECT_EQ(ErrorOf("{\"top_k\": 3,"), "/m/generation_config.json: malformed JSON (parse error at byte 13)");
  EXPECT_EQ(ErrorOf("[1]"), "/m/generation_config.json: expected a JSON object at the top level");
  EXPECT_EQ(ErrorOf(R"({"top_p": 1.5})"), "/m/generation_config.json: top_p is 1.5, expected a number in (0, 1]");
  EXPECT_EQ(ErrorOf(R"({"eos_token_id": [1, "x"]})"),
            "/m/generation_config.json: eos_token_id[1] is \"x\", expected a token id (a whole number >= 0)");
  EXPECT_EQ(ErrorOf(R"({"do_sample": 1})"), "/m/generation_config.json: do_sample is 1, expected true or false");
  EXPECT_EQ(ErrorOf(R"({"temperature": -1})"), "/m/generation_config.json: temperature is -1, expected a number >= 0");
  EXPECT_EQ(ErrorOf(R"({"top_k": 2.5})"), "/m/generation_config.json: top_k is 2.5, expected a whole number >= 0");
  for (const std::string& bad :
       {std::string("{"), std::string(R"({"top_p": 0})"), std::string(R"({"repetition_penalty": 0})")}) {
    const std::string e = ErrorOf(bad);
    EXPECT_EQ(e.rfind("/m/generation_config.json: ", 0), 0u) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
  // Load reads the file from the model directory.
  const auto dir = std::filesystem::temp_directory_path() / ("vkg_gencfg_bad_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "generation_config.json") << "{oops";
  try {
    GenerationConfig::Load(dir);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              (dir / "generation_config.json").string() + ": malformed JSON (parse error at byte 2)");
  }
  std::ofstream(dir / "generation_config.json") << R"({"top_k": 5})";
  EXPECT_EQ(GenerationConfig::Load(dir).top_k, 5);
  std::filesystem::remove_all(dir);
}

TEST(GenerationConfig, OverridesFromFlagsAreCheckedLikeTheFile) {
  GenerationConfig c;
  c.do_sample = false;
  c.Override("temperature", "0.7", "--temp");
  EXPECT_FLOAT_EQ(c.temperature, 0.7f);
  EXPECT_TRUE(c.do_sample);  // asking for a temperature asks for sampling
  c.Override("top_k", "0", "--top-k");
  EXPECT_EQ(c.top_k, 0);
  c.Override("temperature", "0", "--temp");
  EXPECT_TRUE(SamplingParams::FromConfig(c, 0).greedy());
  auto err = [&](const char* key, const char* value, const char* flag) {
    try {
      c.Override(key, value, flag);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(err("top_p", "abc", "--top-p"), "--top-p: top_p is \"abc\", expected a number in (0, 1]");
  EXPECT_EQ(err("top_k", "-2", "--top-k"), "--top-k: top_k is -2, expected a whole number >= 0");
  EXPECT_EQ(err("bogus", "1", "--x"), "--x: unknown generation setting \"bogus\"");
}

}  // namespace
}  // namespace vkg
