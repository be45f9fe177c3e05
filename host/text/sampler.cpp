// Sampler: penalties (repetition, then presence/frequency), then Hugging Face's warper order (temperature, top-k, top-p, min-p) (layer: host/text).
#include "host/text/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "host/text/generation_config.h"

namespace vkg {

SamplingParams SamplingParams::FromConfig(const GenerationConfig& config, uint64_t seed) {
  SamplingParams p;
  p.do_sample = config.do_sample;
  p.temperature = config.temperature;
  p.top_k = config.top_k;
  p.top_p = config.top_p;
  p.min_p = config.min_p;
  p.repetition_penalty = config.repetition_penalty;
  p.seed = seed;
  return p;
}

// ---- Rng ------------------------------------------------------------------------------------

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (uint64_t& s : s_) {  // splitmix64
    uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    s = z ^ (z >> 31);
  }
}

uint64_t Rng::Next() {
  auto rotl = [](uint64_t v, int k) { return (v << k) | (v >> (64 - k)); };
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::Uniform() { return double(Next() >> 11) * 0x1.0p-53; }

// ---- Sampler --------------------------------------------------------------------------------

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

void Sampler::Accept(int32_t id) {
  if (id < 0) return;
  if (size_t(id) >= seen_mask_.size()) seen_mask_.resize(size_t(id) + 1, 0);
  if (!seen_mask_[size_t(id)]) {
    seen_mask_[size_t(id)] = 1;
    seen_.push_back(id);
  }
}

void Sampler::Accept(std::span<const int32_t> ids) {
  for (int32_t id : ids) Accept(id);
}

void Sampler::AcceptGenerated(int32_t id) {
  Accept(id);
  if (id < 0) return;
  if (size_t(id) >= generated_count_.size()) generated_count_.resize(size_t(id) + 1, 0);
  if (generated_count_[size_t(id)]++ == 0) generated_.push_back(id);
}

void Sampler::ClearHistory() {
  for (int32_t id : seen_) seen_mask_[size_t(id)] = 0;
  seen_.clear();
  for (int32_t id : generated_) generated_count_[size_t(id)] = 0;
  generated_.clear();
}

std::vector<float> Sampler::Penalized(std::span<const float> logits) const {
  std::vector<float> out(logits.begin(), logits.end());
  for (float& v : out) {
    if (std::isnan(v)) v = -std::numeric_limits<float>::infinity();
  }
  const float r = params_.repetition_penalty;
  if (r != 1.0f) {
    for (int32_t id : seen_) {
      if (size_t(id) >= out.size()) continue;
      float& v = out[size_t(id)];
      v = v < 0.0f ? v * r : v / r;
    }
  }
  const float presence = params_.presence_penalty, frequency = params_.frequency_penalty;
  if (presence != 0.0f || frequency != 0.0f) {
    for (int32_t id : generated_) {
      if (size_t(id) >= out.size()) continue;
      out[size_t(id)] -= float(generated_count_[size_t(id)]) * frequency + presence;
    }
  }
  return out;
}

std::vector<std::pair<int32_t, double>> Sampler::Distribution(std::span<const float> logits) const {
  const std::vector<float> x = Penalized(logits);
  if (x.empty()) return {};
  // Most likely first; equal logits: lower id first (so greedy picks the lowest id of a tie).
  auto before = [&](int32_t a, int32_t b) {
    return x[size_t(a)] > x[size_t(b)] || (x[size_t(a)] == x[size_t(b)] && a < b);
  };
  if (params_.greedy()) {
    int32_t best = 0;
    for (int32_t i = 1; i < int32_t(x.size()); ++i) {
      if (before(i, best)) best = i;
    }
    return {{best, 1.0}};
  }

  std::vector<int32_t> ids(x.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t(i);
  size_t n = ids.size();
  if (params_.top_k > 0 && size_t(params_.top_k) < n) {
    n = size_t(params_.top_k);
    std::nth_element(ids.begin(), ids.begin() + std::ptrdiff_t(n - 1), ids.end(), before);
    ids.resize(n);
  }
  std::sort(ids.begin(), ids.end(), before);

  // Softmax of logit / T over the survivors, in double (exp of 0 for the top one).
  const double inv_t = 1.0 / double(params_.temperature);
  const double top = double(x[size_t(ids[0])]);
  std::vector<std::pair<int32_t, double>> cand;
  cand.reserve(n);
  double sum = 0.0;
  for (int32_t id : ids) {
    const double p = std::exp((double(x[size_t(id)]) - top) * inv_t);
    if (!(p > 0.0)) break;  // -inf logits (and everything after them) never win
    cand.push_back({id, p});
    sum += p;
  }
  if (cand.empty()) return {{ids[0], 1.0}};
  for (auto& c : cand) c.second /= sum;

  // Top-p: the smallest prefix whose probability reaches top_p (always at least one token).
  if (params_.top_p < 1.0f) {
    double cum = 0.0;
    size_t keep = 0;
    while (keep < cand.size()) {
      cum += cand[keep].second;
      ++keep;
      if (cum >= double(params_.top_p)) break;
    }
    cand.resize(keep);
  }
  // Min-p: relative to the most likely token (which always stays).
  if (params_.min_p > 0.0f) {
    const double threshold = double(params_.min_p) * cand[0].second;
    size_t keep = 1;
    while (keep < cand.size() && cand[keep].second >= threshold) ++keep;
    cand.resize(keep);
  }
  double total = 0.0;
  for (const auto& c : cand) total += c.second;
  for (auto& c : cand) c.second /= total;
  return cand;
}

int32_t Sampler::Sample(std::span<const float> logits) {
  const auto dist = Distribution(logits);
  if (dist.size() == 1) return dist[0].first;
  const double u = rng_.Uniform();
  double cum = 0.0;
  for (const auto& [id, p] : dist) {
    cum += p;
    if (u < cum) return id;
  }
  return dist.back().first;  // rounding: u just below 1
}

}  // namespace vkg
