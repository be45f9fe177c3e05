// Checkpoint-backed and synthetic weight sources (layer: host/device).
#include "host/device/weight_source.h"

#include <cmath>
#include <cstring>
#include <unordered_map>

#include "host/error.h"
#include "host/formats/kquant_blocks.h"
#include "host/model/tensor_names.h"

namespace vkg {
namespace {

class CheckpointSource : public WeightSource {
 public:
  explicit CheckpointSource(const Checkpoint& ckpt) : ckpt_(ckpt) {
    // The text decoder's bytes (what GpuModel uploads with progress); the vision tower's are not.
    for (const auto& [name, info] : ckpt.weights().all()) {
      if (name.rfind("vision_tower.", 0) != 0 && name.rfind("embed_vision.", 0) != 0) total_ += info->size;
    }
  }
  const ModelConfig& config() const override { return ckpt_.config(); }
  RowSource Rows(const std::string& name, uint32_t cols, uint32_t row_offset, float scale) const override {
    const TensorInfo& t = ckpt_.Tensor(name);
    return [&t, cols, row_offset, scale](uint32_t r, float* out) {
      const size_t base = size_t(row_offset + r) * cols;
      for (uint32_t c = 0; c < cols; ++c) out[c] = TensorElement(t, base + c) * scale;
    };
  }
  std::vector<float> Vector(const std::string& name) const override { return ckpt_.Float32(name); }
  std::optional<DType> StoredType(const std::string& name) const override {
    const TensorInfo& t = ckpt_.Tensor(name);
    return t.quantized ? std::optional<DType>(t.dtype) : std::nullopt;
  }
  RawRowSource RawRows(const std::string& name, uint32_t cols, uint32_t row_offset) const override {
    const TensorInfo& t = ckpt_.Tensor(name);
    if (!t.quantized || cols % BlockValues(t.dtype)) {
      throw Error("tensor " + name + " is not stored as ggml blocks of whole rows");
    }
    const size_t row_bytes = DTypeBytes(t.dtype, cols);
    return [&t, row_bytes, row_offset](uint32_t r, uint8_t* out) {
      std::memcpy(out, t.data + size_t(row_offset + r) * row_bytes, row_bytes);
    };
  }
  uint64_t total_bytes() const override { return total_; }
  uint32_t ValueBytes(const std::string& name) const override {
    const TensorInfo& t = ckpt_.Tensor(name);
    return t.quantized ? 1 : uint32_t(DTypeBytes(t.dtype, 1));  // q8_0 / q4_0: about a byte
  }

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

// lowbias32 (Chris Wellons' 32-bit integer hash): cheap enough to vectorise across a row.
inline uint32_t Hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

// One synthetic row: out[c] = signed hash of (row_key, c) times step. Built for AVX2 too when
// the compiler can (32-bit multiplies vectorise there, not in baseline x86-64 SSE2).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
void FillRow(uint32_t row_key, float step, uint32_t cols, float* out) {
  for (uint32_t c = 0; c < cols; ++c) out[c] = float(int32_t(Hash32(row_key + c * 0x9E3779B9u))) * step;
}

// Values are computed as rows are uploaded, so generating them must cost far less than the
// conversion that follows (a full E2B is 2.3 billion values): one 64-bit mix per row gives the
// row's key, then each value is a 32-bit hash of (row key, column), about a nanosecond or less.
class SyntheticSource : public WeightSource {
 public:
  SyntheticSource(ModelConfig config, uint64_t seed) : config_(std::move(config)), seed_(seed) {
    auto add = [&](const TensorSpec& s) {
      uint64_t n = 1;
      for (int64_t d : s.shape) n *= uint64_t(d);
      total_ += n * 2;  // as bf16 on disk
      elements_[s.name] = n;
    };
    ForEachTensor(config_, add);
    ForEachVisionTensor(config_, add);  // a vision tower (bench --image-tokens)
    ForEachAudioTensor(config_, add);   // an audio tower (bench --audio-seconds)
  }
  const ModelConfig& config() const override { return config_; }
  RowSource Rows(const std::string& name, uint32_t cols, uint32_t row_offset, float scale) const override {
    const uint64_t key = Key(name);
    // Uniform in +-amp: a signed 32-bit hash times amp / 2^31.
    const float step = scale / std::sqrt(float(cols)) * 0x1.0p-31f;
    return [key, cols, row_offset, step](uint32_t r, float* out) {
      const uint32_t row_key = uint32_t(Mix(key ^ (uint64_t(row_offset) + r)));
      FillRow(row_key, step, cols, out);
    };
  }
  std::vector<float> Vector(const std::string& name) const override {
    const auto it = elements_.find(name);
    if (it == elements_.end()) throw Error("synthetic weights: no tensor " + name);
    std::vector<float> v(size_t(it->second));
    const uint64_t key = Key(name);
    const bool scalar = name.find("layer_scalar") != std::string::npos;
    // Clamp bounds of the vision tower's clipped linears: about +-4, wide enough to pass most values.
    const bool bound = name.ends_with("put_min") || name.ends_with("put_max");
    const float sign = name.ends_with("_min") ? -1.f : 1.f;
    for (size_t i = 0; i < v.size(); ++i) {
      v[i] = scalar ? 1.f : bound ? sign * (4.f + Uniform(key, i)) : 1.f + 0.1f * Uniform(key, i);
    }
    return v;
  }
  uint64_t total_bytes() const override { return total_; }
  uint32_t ValueBytes(const std::string&) const override { return 2; }  // as bf16 on disk

 private:
  uint64_t Key(const std::string& name) const {
    uint64_t h = seed_;
    for (unsigned char ch : name) h = Mix(h ^ ch);
    return h;
  }
  ModelConfig config_;
  uint64_t seed_;
  uint64_t total_ = 0;
  std::unordered_map<std::string, uint64_t> elements_;  // name -> element count
};

}  // namespace

RawRowSource WeightSource::RawRows(const std::string& name, uint32_t, uint32_t) const {
  throw Error("tensor " + name + " has no stored ggml blocks");
}

std::unique_ptr<WeightSource> CheckpointWeights(const Checkpoint& ckpt) {
  return std::make_unique<CheckpointSource>(ckpt);
}

std::unique_ptr<WeightSource> SyntheticWeights(const ModelConfig& config, uint64_t seed) {
  return std::make_unique<SyntheticSource>(config, seed);
}

}  // namespace vkg
