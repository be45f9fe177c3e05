#include "tools/logit_kl/logit_kl.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace vkg::tools {
namespace {

// log(sum(exp(x - max))) + max, in double.
double LogSumExp(std::span<const float> x) {
  double m = -INFINITY;
  for (float v : x) m = std::max(m, double(v));
  double s = 0;
  for (float v : x) s += std::exp(double(v) - m);
  return m + std::log(s);
}

size_t ArgMax(std::span<const float> x) {
  size_t best = 0;
  for (size_t i = 1; i < x.size(); ++i)
    if (x[i] > x[best]) best = i;  // strict: ties keep the lower id
  return best;
}

}  // namespace

double PositionKl(std::span<const float> reference, std::span<const float> test) {
  const double lp = LogSumExp(reference), lq = LogSumExp(test);
  double kl = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    const double log_p = double(reference[i]) - lp, log_q = double(test[i]) - lq;
    kl += std::exp(log_p) * (log_p - log_q);
  }
  return std::max(kl, 0.0);  // rounding can leave -1e-17 for equal rows
}

LogitDivergence CompareLogits(std::span<const float> reference, std::span<const float> test, size_t vocab) {
  if (vocab == 0) throw std::invalid_argument("the vocabulary size must be positive");
  if (reference.size() != test.size()) {
    throw std::invalid_argument("the two files hold " + std::to_string(reference.size()) + " and " +
                                std::to_string(test.size()) + " values: not the same run");
  }
  if (reference.empty() || reference.size() % vocab != 0) {
    throw std::invalid_argument(std::to_string(reference.size()) + " values are not a whole number of " +
                                std::to_string(vocab) + "-logit positions");
  }
  for (size_t i = 0; i < reference.size(); ++i) {
    if (!std::isfinite(reference[i]) || !std::isfinite(test[i])) {
      throw std::invalid_argument("logit " + std::to_string(i % vocab) + " of position " + std::to_string(i / vocab) +
                                  " is not finite");
    }
  }
  LogitDivergence d;
  d.positions = reference.size() / vocab;
  std::vector<double> kls(d.positions);
  size_t agree = 0;
  double sq = 0;
  for (size_t p = 0; p < d.positions; ++p) {
    const auto r = reference.subspan(p * vocab, vocab), t = test.subspan(p * vocab, vocab);
    kls[p] = PositionKl(r, t);
    agree += ArgMax(r) == ArgMax(t);
    for (size_t i = 0; i < vocab; ++i) sq += (double(t[i]) - r[i]) * (double(t[i]) - r[i]);
  }
  double sum = 0;
  for (double k : kls) sum += k;
  d.mean_kl = sum / double(d.positions);
  std::vector<double> sorted = kls;
  std::sort(sorted.begin(), sorted.end());
  d.max_kl = sorted.back();
  const size_t n = sorted.size();
  d.median_kl = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  d.p99_kl = sorted[std::min(n - 1, size_t(std::ceil(0.99 * double(n))) - 1)];
  d.top1_agreement = double(agree) / double(d.positions);
  d.rms_logit_diff = std::sqrt(sq / double(reference.size()));
  return d;
}

std::vector<float> ReadFloat32File(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  const std::streamoff size = in.tellg();
  if (size % 4 != 0) {
    throw std::runtime_error(path + ": " + std::to_string(size) + " bytes is not a whole number of float32 values");
  }
  std::vector<float> values(size_t(size) / 4);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(values.data()), size);
  if (!in) throw std::runtime_error("cannot read " + path + ": short read");
  return values;
}

}  // namespace vkg::tools
