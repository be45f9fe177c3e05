// Deterministic random weights (layer: tools/make_checkpoint). Own generator (splitmix64 +
// Box-Muller) so checkpoints are identical across standard libraries.
#include "tools/make_checkpoint/random_weights.h"

#include <cmath>
#include <string>

namespace vkg::mkckpt {
namespace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {  // splitmix64
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double Uniform() { return double(Next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
  double Normal() {
    const double u1 = 1.0 - Uniform(), u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }

 private:
  uint64_t s_;
};

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

}  // namespace

std::vector<float> RandomValues(const TensorSpec& spec, uint64_t seed) {
  size_t n = 1;
  for (int64_t d : spec.shape) n *= size_t(d);
  Rng rng(seed * 0x9e3779b97f4a7c15ull ^ Fnv1a(spec.name));
  const double fan_in = spec.shape.empty() ? 1.0 : double(spec.shape.back());
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    double v = 0.0;
    switch (spec.role) {
      case TensorRole::kEmbedding: v = rng.Normal() * 2.0 / std::sqrt(fan_in); break;
      case TensorRole::kMatrix: v = rng.Normal() / std::sqrt(fan_in); break;
      case TensorRole::kNorm:
      case TensorRole::kRouterScale: v = 1.0 + 0.1 * rng.Normal(); break;
      case TensorRole::kLayerScalar: v = 0.6 + 0.6 * rng.Uniform(); break;
      case TensorRole::kPerExpertScale: v = 0.5 + rng.Uniform(); break;
      case TensorRole::kVisionVector: v = 0.5 + rng.Uniform(); break;
      case TensorRole::kAudioVector:
        v = rng.Normal() / std::sqrt(fan_in);
        break;  // kernels, biases, per_dim_scale
      // Clamp ranges wide enough that typical activations pass, narrow enough that outliers clip.
      case TensorRole::kClipBound: v = (spec.name.ends_with("_min") ? -1.0 : 1.0) * (4.0 + rng.Uniform()); break;
    }
    out[i] = float(v);
  }
  return out;
}

}  // namespace vkg::mkckpt
