// Shared test helpers (tests).
#include "tests/test_util.h"

#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include "host/formats/dtype.h"
#include "host/formats/format_traits.h"

namespace vkg::test {
namespace {
constexpr uint32_t kGuardPattern = 0x7fc0dead;  // a NaN no op writes
constexpr size_t kGuardBytes = 256;
}  // namespace

std::vector<DType> AllWeightFormats(bool with_f32) {
  std::vector<DType> out;
  for (const FormatTraits& f : kFormats) {
    if (with_f32 || f.dtype != DType::F32) out.push_back(f.dtype);
  }
  return out;
}

std::vector<float> RandomVector(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

ErrorStats Compare(std::span<const float> ref, std::span<const float> got) {
  ErrorStats s;
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size() && i < got.size(); ++i) {
    if (!std::isfinite(got[i])) {
      ++s.non_finite;
      continue;
    }
    const double d = double(got[i]) - ref[i];
    num += d * d;
    den += double(ref[i]) * ref[i];
    s.max_abs = std::max(s.max_abs, std::fabs(d));
  }
  s.nmse = den > 0 ? num / den : num;
  return s;
}

void ExpectClose(std::span<const float> ref, std::span<const float> got, double nmse_threshold, const char* what) {
  ASSERT_EQ(ref.size(), got.size()) << what;
  const ErrorStats s = Compare(ref, got);
  // Where it goes wrong first helps more than the aggregate.
  size_t worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(got[i])) {
      worst = i;
      break;
    }
    if (std::fabs(double(got[i]) - ref[i]) > std::fabs(double(got[worst]) - ref[worst])) worst = i;
  }
  const std::string where = ref.empty() ? std::string()
                                        : " worst at [" + std::to_string(worst) + "]: got " +
                                              std::to_string(got[worst]) + ", expected " + std::to_string(ref[worst]);
  EXPECT_EQ(s.non_finite, 0u) << what << ": " << s.non_finite << " non-finite outputs;" << where;
  EXPECT_LE(s.nmse, nmse_threshold) << what << ": NMSE " << s.nmse << " (max abs " << s.max_abs << ");" << where;
}

GpuContext& GpuTest::gpu() {
  static GpuContext* ctx = new GpuContext(GpuOptions{});  // lives for the process
  return *ctx;
}

void GpuTest::SetUp() {
  alloc_ = std::make_unique<vk::BlockAllocator>(gpu().device(), vk::MemoryKind::kDeviceLocal, "test",
                                                VkDeviceSize(64) << 20);
  rec_ = std::make_unique<vk::Recorder>(gpu().device());
  validation_before_ = gpu().instance().validation_message_count();
}

void GpuTest::TearDown() {
  rec_.reset();
  alloc_.reset();
  EXPECT_EQ(gpu().instance().validation_message_count(), validation_before_)
      << "Vulkan validation reported: " << gpu().instance().last_validation_message();
}

Tensor GpuTest::NewTensor(uint32_t rows, uint32_t cols, DType dtype) {
  const size_t bytes = DTypeBytes(dtype, size_t(rows) * cols);
  const vk::BufferSlice whole = alloc_->Allocate(kGuardBytes * 2 + bytes);
  std::vector<uint32_t> pattern((whole.size + 3) / 4, kGuardPattern);
  UploadRaw(whole, pattern.data(), whole.size);
  Tensor t{whole.Sub(kGuardBytes, bytes), dtype, rows, cols};
  guarded_.push_back({whole, t});
  return t;
}

void GpuTest::UploadRaw(const vk::BufferSlice& s, const void* data, size_t bytes) {
  gpu().transfer().Upload(s, data, bytes);
}

void GpuTest::Upload(const Tensor& t, std::span<const float> values) {
  ASSERT_EQ(values.size(), t.elements());
  if (t.dtype == DType::F32) {
    UploadRaw(t.slice, values.data(), values.size_bytes());
  } else {
    ASSERT_EQ(t.dtype, DType::F16) << "test Upload supports f32 and f16 tensors";
    std::vector<uint16_t> h(values.size());
    for (size_t i = 0; i < h.size(); ++i) h[i] = FloatToHalf(values[i]);
    UploadRaw(t.slice, h.data(), h.size() * 2);
  }
}

std::vector<float> GpuTest::Download(const Tensor& t) {
  for (const Guarded& g : guarded_) {
    if (g.tensor.slice.buffer != t.slice.buffer || g.tensor.slice.offset != t.slice.offset) continue;
    std::vector<uint32_t> raw(g.whole.size / 4);
    gpu().transfer().Download(g.whole, raw.data(), raw.size() * 4);
    const size_t head = kGuardBytes / 4, body = (t.slice.size + 3) / 4;
    size_t bad = 0;
    for (size_t i = 0; i < head; ++i) bad += raw[i] != kGuardPattern;
    for (size_t i = head + body; i < raw.size(); ++i) bad += raw[i] != kGuardPattern;
    EXPECT_EQ(bad, 0u) << "out-of-bounds write: " << bad << " guard words changed";
    std::vector<float> out(t.elements());
    if (t.dtype == DType::F32) {
      std::memcpy(out.data(), raw.data() + head, out.size() * 4);
    } else {
      const auto* h = reinterpret_cast<const uint16_t*>(raw.data() + head);
      for (size_t i = 0; i < out.size(); ++i) out[i] = HalfToFloat(h[i]);
    }
    return out;
  }
  ADD_FAILURE() << "Download of a tensor not made by NewTensor";
  return {};
}

void GpuTest::Run(const std::function<void(OpContext&)>& body) { Run(body, KernelFamily::kDevice); }

void GpuTest::Run(const std::function<void(OpContext&)>& body, KernelFamily family) {
  OpContext ctx{gpu().device(), gpu().pipelines(), *rec_, family};
  rec_->Begin();
  body(ctx);
  rec_->ToHost();
  rec_->End();
  rec_->Submit();
}

}  // namespace vkg::test
