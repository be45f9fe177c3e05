// Checkpoint-backed and synthetic weight sources (layer: host).
#include "host/weight_source.h"

#include <cmath>
#include <cstring>

#include "host/model/error.h"
#include "host/model/tensor_names.h"

namespace vkg {
namespace {

float ElementAt(const TensorInfo& t, size_t i) {
  switch (t.dtype) {
    case DType::F32: {
      float f;
      std::memcpy(&f, t.data + i * 4, 4);
      return f;
    }
    case DType::F16: {
      uint16_t h;
      std::memcpy(&h, t.data + i * 2, 2);
      return HalfToFloat(h);
    }
    case DType::BF16: {
      uint16_t b;
      std::memcpy(&b, t.data + i * 2, 2);
      return Bf16ToFloat(b);
    }
    default: throw Error("tensor " + t.name + " has a non-float dtype");
  }
}

class CheckpointSource : public WeightSource {
 public:
  explicit CheckpointSource(const Checkpoint& ckpt) : ckpt_(ckpt) {
    for (const auto& [name, info] : ckpt.weights().all()) total_ += info->size;
  }
  const ModelConfig& config() const override { return ckpt_.config(); }
  RowSource Rows(const std::string& name, uint32_t cols, uint32_t row_offset, float scale) const override {
    const TensorInfo& t = ckpt_.Tensor(name);
    return [&t, cols, row_offset, scale](uint32_t r, float* out) {
      const size_t base = size_t(row_offset + r) * cols;
      for (uint32_t c = 0; c < cols; ++c) out[c] = ElementAt(t, base + c) * scale;
    };
  }
  std::vector<float> Vector(const std::string& name) const override { return ckpt_.Float32(name); }
  uint64_t total_bytes() const override { return total_; }

 private:
  const Checkpoint& ckpt_;
  uint64_t total_ = 0;
};

uint64_t Mix(uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Uniform in [-1, 1) from (key, index).
float Uniform(uint64_t key, uint64_t index) {
  return float(int64_t(Mix(key ^ Mix(index)) >> 11) * 0x1.0p-53 * 2.0 - 1.0);
}

class SyntheticSource : public WeightSource {
 public:
  SyntheticSource(ModelConfig config, uint64_t seed) : config_(std::move(config)), seed_(seed) {
    ForEachTensor(config_, [&](const TensorSpec& s) {
      uint64_t n = 1;
      for (int64_t d : s.shape) n *= uint64_t(d);
      total_ += n * 2;  // as bf16 on disk
    });
  }
  const ModelConfig& config() const override { return config_; }
  RowSource Rows(const std::string& name, uint32_t cols, uint32_t row_offset, float scale) const override {
    const uint64_t key = Key(name);
    const float amp = scale / std::sqrt(float(cols));
    return [key, cols, row_offset, amp](uint32_t r, float* out) {
      const uint64_t base = uint64_t(row_offset + r) * cols;
      for (uint32_t c = 0; c < cols; ++c) out[c] = Uniform(key, base + c) * amp;
    };
  }
  std::vector<float> Vector(const std::string& name) const override {
    size_t n = 1;
    bool found = false;
    ForEachTensor(config_, [&](const TensorSpec& s) {
      if (s.name != name) return;
      found = true;
      for (int64_t d : s.shape) n *= size_t(d);
    });
    if (!found) throw Error("synthetic weights: no tensor " + name);
    std::vector<float> v(n);
    const uint64_t key = Key(name);
    const bool scalar = name.find("layer_scalar") != std::string::npos;
    for (size_t i = 0; i < n; ++i) v[i] = scalar ? 1.f : 1.f + 0.1f * Uniform(key, i);
    return v;
  }
  uint64_t total_bytes() const override { return total_; }

 private:
  uint64_t Key(const std::string& name) const {
    uint64_t h = seed_;
    for (unsigned char ch : name) h = Mix(h ^ ch);
    return h;
  }
  ModelConfig config_;
  uint64_t seed_;
  uint64_t total_ = 0;
};

}  // namespace

std::unique_ptr<WeightSource> CheckpointWeights(const Checkpoint& ckpt) {
  return std::make_unique<CheckpointSource>(ckpt);
}

std::unique_ptr<WeightSource> SyntheticWeights(const ModelConfig& config, uint64_t seed) {
  return std::make_unique<SyntheticSource>(config, seed);
}

}  // namespace vkg
