// Next-token selection from logits: greedy, or sampling with temperature, top-k, top-p and min-p,
// plus Hugging Face's repetition penalty and OpenAI's presence and frequency penalties (layer: host/text). Seeded and platform independent: the
// random numbers come from our own xoshiro256** generator, never from std:: distributions.
#pragma once
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace vkg {

struct GenerationConfig;

struct SamplingParams {
  bool do_sample = true;            // false: greedy (argmax)
  float temperature = 1.0f;         // <= 0: greedy
  int32_t top_k = 0;                // keep the k most likely tokens; 0: off
  float top_p = 1.0f;               // keep the smallest set whose probability reaches top_p; 1: off
  float min_p = 0.0f;               // drop tokens less likely than min_p * the top one's; 0: off
  float repetition_penalty = 1.0f;  // HF: positive logits of seen tokens / r, negative ones * r
  // OpenAI: logit[j] -= count[j] * frequency_penalty + (count[j] > 0) * presence_penalty, where
  // count[j] is how often j was generated so far (the prompt does not count); 0: off.
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  uint64_t seed = 0;

  bool greedy() const { return !do_sample || temperature <= 0.0f; }
  // The checkpoint's sampling defaults.
  static SamplingParams FromConfig(const GenerationConfig& config, uint64_t seed);
};

// xoshiro256** seeded through splitmix64: the same seed gives the same numbers everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t Next();
  double Uniform();  // [0, 1) with 53 random bits

 private:
  uint64_t s_[4];
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);

  // Records a token of the sequence (prompt or generated) for the repetition penalty.
  void Accept(int32_t id);
  void Accept(std::span<const int32_t> ids);
  // Records a generated token: for the repetition penalty, and counted for the presence and
  // frequency penalties.
  void AcceptGenerated(int32_t id);
  // Forgets the recorded tokens and counts (the random stream goes on).
  void ClearHistory();

  // Picks the next token from one position's logits [vocab].
  int32_t Sample(std::span<const float> logits);
  // The candidates left after penalty and filters with their probabilities, most likely first
  // (ties: lower id first). Greedy: the argmax alone with probability 1.
  std::vector<std::pair<int32_t, double>> Distribution(std::span<const float> logits) const;

  const SamplingParams& params() const { return params_; }

 private:
  std::vector<float> Penalized(std::span<const float> logits) const;

  SamplingParams params_;
  Rng rng_;
  std::vector<int32_t> seen_;  // distinct ids recorded
  std::vector<uint8_t> seen_mask_;
  std::vector<int32_t> generated_;         // distinct ids generated
  std::vector<uint32_t> generated_count_;  // per id: times generated
};

}  // namespace vkg
