// KvWrite on the device: f32 rows land in slots (start_pos + t) % cache_len converted to the cache
// dtype (f16 bit-exact with the host's round-to-nearest-even), other slots untouched, ring wrap.
#include <cstdio>
#include <string>
#include <vector>

#include "host/ops/kv_write.h"
#include "tests/test_util.h"
#include "vk/check.h"

namespace vkg::test {
namespace {

struct KvCase {
  std::string name;
  uint32_t T, start_pos, cache_len, row;  // row = n_kv_heads * head_dim
  DType dtype;
};
std::ostream& operator<<(std::ostream& os, const KvCase& c) { return os << c.name; }

class KvWriteTest : public GpuTest, public ::testing::WithParamInterface<KvCase> {};

TEST_P(KvWriteTest, WritesSlotsAndNothingElse) {
  const KvCase& c = GetParam();
  const std::vector<float> kn = RandomVector(size_t(c.T) * c.row, 7, -4.f, 4.f);
  std::vector<float> vn = RandomVector(size_t(c.T) * c.row, 8, -4.f, 4.f);
  vn[0] = 65504.f;  // largest finite half
  vn[1] = 1e-7f;    // subnormal in f16
  // Previous cache contents, which every slot not written must keep.
  std::vector<float> k_old = RandomVector(size_t(c.cache_len) * c.row, 9);
  std::vector<float> v_old = RandomVector(size_t(c.cache_len) * c.row, 10);
  const Tensor tk = NewTensor(c.T, c.row), tv = NewTensor(c.T, c.row);
  const Tensor kc = NewTensor(c.cache_len, c.row, c.dtype), vc = NewTensor(c.cache_len, c.row, c.dtype);
  Upload(tk, kn);
  Upload(tv, vn);
  Upload(kc, k_old);
  Upload(vc, v_old);
  Run([&](OpContext& ctx) { KvWrite(ctx, tk, tv, kc, vc, c.start_pos); });

  auto expect = [&](std::vector<float> cache, const std::vector<float>& fresh) {
    for (uint32_t t = 0; t < c.T; ++t) {
      const size_t slot = (c.start_pos + t) % c.cache_len;
      for (uint32_t i = 0; i < c.row; ++i) cache[slot * c.row + i] = fresh[size_t(t) * c.row + i];
    }
    return RoundTripThrough(c.dtype, cache);
  };
  const std::vector<float> k_ref = expect(k_old, kn), v_ref = expect(v_old, vn);
  const std::vector<float> k_got = Download(kc), v_got = Download(vc);
  size_t k_bad = 0, v_bad = 0;
  for (size_t i = 0; i < k_ref.size(); ++i) k_bad += k_got[i] != k_ref[i], v_bad += v_got[i] != v_ref[i];
  EXPECT_EQ(k_bad, 0u) << "K values differ from the host conversion";
  EXPECT_EQ(v_bad, 0u) << "V values differ from the host conversion";
}

INSTANTIATE_TEST_SUITE_P(Cases, KvWriteTest,
                         ::testing::Values(KvCase{"decode_f16_d16x4", 1, 5, 8, 64, DType::F16},
                                           KvCase{"decode_f32_d512", 1, 1023, 1024, 512, DType::F32},
                                           KvCase{"prefill_f16_T23_d256x2", 23, 0, 64, 512, DType::F16},
                                           // ring: positions 30..52 in 40 slots wrap past the end
                                           KvCase{"prefill_f16_T23_ring_wrap", 23, 30, 40, 32, DType::F16},
                                           KvCase{"prefill_f32_T27_ring_full", 27, 1000, 27, 32, DType::F32}),
                         [](const auto& info) { return info.param.name; });

class KvWriteChecks : public GpuTest {};

TEST_F(KvWriteChecks, RejectsChunkLongerThanCache) {
  const Tensor tk = NewTensor(9, 32), tv = NewTensor(9, 32);
  const Tensor kc = NewTensor(8, 32, DType::F16), vc = NewTensor(8, 32, DType::F16);
  Run([&](OpContext& ctx) { EXPECT_THROW(KvWrite(ctx, tk, tv, kc, vc, 0), vk::Error); });
}

}  // namespace
}  // namespace vkg::test
