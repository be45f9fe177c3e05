// Quantized KV caches (q8_0, q4_0; host/device/kv_cache.h) on the device: KvWrite's blocks
// against the host encoder, and every attention kernel reading them against ref::Attention fed
// the same dequantized values: decode (CPU family, and the GPU family's flash-decoding with
// splits), prefill (the row kernel, the GPU tiled kernel with splits, the matrix-unit kernel on
// emulated fragments), full and sliding layers on wrapped rings, K=V layers, heads of 16 (blocks
// of 16), 64, 256 and 512 (ggml's 32).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "host/device/kv_cache.h"
#include "host/ops/attention.h"
#include "host/ops/kv_write.h"
#include "host/ops/plans/attention_plan.h"
#include "host/reference/ref_ops.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

// The kernels dequantize exactly as the reference's values were made (q * d in f32), so the
// remaining differences are f32 arithmetic: tests/ops/attention_test.cpp's bound. The matrix-unit
// kernel rounds q, K, V and P to f16: tests/ops/attention_coopmat_test.cpp's plain bound.
constexpr double kNmseF32Math = 1e-9;
constexpr double kNmseF16Units = 5e-4;

struct Case {
  std::string name;
  uint32_t T, start_pos, n_heads, n_kv_heads, head_dim, cache_len, window;
  DType kv;
  KernelFamily family = KernelFamily::kCpu;
  bool scratch = false;   // pass a scratch tensor (split decode / split GPU prefill)
  bool k_is_v = false;    // one cache bound as K and V
  bool emulated = false;  // the matrix-unit prefill kernel on emulated fragments
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

class AttentionKvQuantTest : public GpuTest, public ::testing::WithParamInterface<Case> {
 protected:
  // A device buffer of the cache's bytes (an f32 tensor of that many words, for the guards) and
  // the quantized cache tensor over it.
  std::pair<Tensor, Tensor> NewCache(DType kv, uint32_t slots, uint32_t row, uint32_t head_dim) {
    const uint64_t bytes = KvBufferBytes(kv, uint64_t(slots) * row, head_dim);
    const Tensor raw = NewTensor(1, uint32_t(bytes / 4));
    return {raw, Tensor{raw.slice, kv, slots, row}};
  }
};

TEST_P(AttentionKvQuantTest, MatchesReference) {
  const Case& c = GetParam();
  const uint32_t row = c.n_kv_heads * c.head_dim, qcols = c.n_heads * c.head_dim;
  const uint32_t last = c.start_pos + c.T - 1;
  const uint32_t first = c.window > 0 && c.start_pos + 1 > c.window ? c.start_pos + 1 - c.window : 0;
  // Slots no query may see hold 40: read by mistake, they would dominate the softmax.
  std::vector<float> k = RandomVector(size_t(c.cache_len) * row, 1000 + c.head_dim);
  std::vector<float> v = RandomVector(size_t(c.cache_len) * row, 2000 + c.head_dim);
  std::vector<bool> used(c.cache_len, false);
  for (uint32_t j = first; j <= last; ++j) used[j % c.cache_len] = true;
  for (uint32_t s = 0; s < c.cache_len; ++s) {
    if (used[s]) continue;
    std::fill_n(k.begin() + size_t(s) * row, row, 40.f);
    std::fill_n(v.begin() + size_t(s) * row, row, 40.f);
  }
  if (c.k_is_v) v = k;
  std::vector<float> kr = k, vr = v;  // what the cache holds
  RoundTripKv(c.kv, kr.data(), kr.size(), c.head_dim);
  RoundTripKv(c.kv, vr.data(), vr.size(), c.head_dim);
  std::vector<float> q = RandomVector(size_t(c.T) * qcols, 3000 + c.T);
  if (c.emulated) {  // the matrix-unit kernel rounds q to f16: give the reference the same q
    for (float& x : q) x = RoundTripHalf(x);
  }
  std::vector<float> ref(q.size());
  ref::Attention(q.data(), kr.data(), vr.data(), ref.data(),
                 ref::AttentionShape{.tokens = int(c.T),
                                     .start_pos = int(c.start_pos),
                                     .n_heads = int(c.n_heads),
                                     .n_kv_heads = int(c.n_kv_heads),
                                     .head_dim = int(c.head_dim),
                                     .cache_len = int(c.cache_len),
                                     .window = int(c.window)});

  const auto [kraw, tk] = NewCache(c.kv, c.cache_len, row, c.head_dim);
  const auto [vraw, tv] = NewCache(c.kv, c.cache_len, row, c.head_dim);
  const std::vector<uint8_t> kb = EncodeKvQuantized(c.kv, k, c.head_dim), vb = EncodeKvQuantized(c.kv, v, c.head_dim);
  UploadRaw(tk.slice, kb.data(), kb.size());
  UploadRaw(tv.slice, vb.data(), vb.size());
  const Tensor tq = NewTensor(c.T, qcols), tout = NewTensor(c.T, qcols);
  Upload(tq, q);
  const AttentionShape shape{c.start_pos, c.n_heads, c.n_kv_heads, c.head_dim, c.cache_len, c.window, 1.f};
  Tensor tscratch;
  if (c.scratch) tscratch = NewTensor(1, uint32_t(AttentionScratchFloats(shape, c.T)));
  Run([&](OpContext& ctx) {
    ctx.kernels = c.family;
    ctx.features.emulate_cooperative_matrix = c.emulated;
    if (c.T > 1 && c.family == KernelFamily::kGpu) {
      const AttentionPrefillPlan plan = PlanAttentionPrefillFor(ctx, shape, c.T, 4, c.scratch);
      EXPECT_EQ(plan.coopmat, c.emulated) << c.name;
      EXPECT_TRUE(plan.gpu_kernel) << c.name;
      if (c.scratch) EXPECT_GT(plan.splits, 1u) << c.name << ": meant to split the keys";
    }
    if (c.T == 1 && c.scratch) {
      EXPECT_GT(PlanAttentionDecode(ctx.device.caps(), ctx.GpuKernels(), shape, 1, true).splits, 1u) << c.name;
    }
    Attention(ctx, tq, tk, c.k_is_v ? tk : tv, tout, shape, c.scratch ? &tscratch : nullptr);
  });
  const std::vector<float> got = Download(tout);
  const ErrorStats st = Compare(ref, got);
  std::printf("  [%s] NMSE %.3g max_abs %.3g\n", c.name.c_str(), st.nmse, st.max_abs);
  ExpectClose(ref, got, c.emulated ? kNmseF16Units : kNmseF32Math, c.name.c_str());
  Download(kraw);  // guard checks: the op must not write the caches' neighbours
  Download(vraw);
}

const auto Q8 = DType::Q8_0;
const auto Q4 = DType::Q4_0;
const auto kCpu = KernelFamily::kCpu;
const auto kGpu = KernelFamily::kGpu;

// name, T, start_pos, n_heads, n_kv_heads, head_dim, cache_len, window, kv, family, scratch, k_is_v, emulated
INSTANTIATE_TEST_SUITE_P(
    Decode, AttentionKvQuantTest,
    ::testing::Values(Case{"cpu_d16_gqa2_slide8_ring_wrapped_q8", 1, 300, 4, 2, 16, 8, 8, Q8, kCpu},
                      Case{"cpu_d256_gqa8_full_pos700_split_q4", 1, 700, 8, 1, 256, 701, 0, Q4, kCpu, true},
                      Case{"gpu_d512_gqa8_full_pos1500_split_q8", 1, 1500, 8, 1, 512, 1501, 0, Q8, kGpu, true},
                      Case{"gpu_d256_gqa2_slide64_pos900_ring_k_eq_v_q4", 1, 900, 4, 2, 256, 64, 64, Q4, kGpu, true,
                           true},
                      Case{"gpu_d16_gqa8_full_pos300_split_q4", 1, 300, 8, 1, 16, 301, 0, Q4, kGpu, true}),
    [](const auto& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(Prefill, AttentionKvQuantTest,
                         ::testing::Values(Case{"row_d16_gqa2_slide8_T13_start200_ring_q4", 13, 200, 4, 2, 16, 20, 8,
                                                Q4, kCpu},
                                           Case{"row_d32_gqa2_full_T27_start5_q8", 27, 5, 4, 2, 32, 32, 0, Q8, kCpu},
                                           Case{"gpu_d256_gqa8_slide100_T150_start1000_ring_split_q8", 150, 1000, 8, 1,
                                                256, 249, 100, Q8, kGpu, true},
                                           Case{"gpu_d512_gqa8_full_T61_start7_split_k_eq_v_q4", 61, 7, 8, 1, 512, 68,
                                                0, Q4, kGpu, true, true},
                                           Case{"coopmat_emulated_d64_gqa4_full_T37_start100_split_q8", 37, 100, 8, 2,
                                                64, 137, 0, Q8, kGpu, true, false, true},
                                           Case{"coopmat_emulated_d256_gqa2_slide64_T70_start300_ring_q4", 70, 300, 4,
                                                2, 256, 133, 64, Q4, kGpu, false, false, true}),
                         [](const auto& info) { return info.param.name; });

// KvWrite quantizes on the device as the host encoder does: T rows at ring slots, both formats,
// heads of 16 (two blocks of 16 share a scale word, written by two invocations) and 64. A value
// exactly halfway between two quants may round either way (1 / d computed on the device), so a
// quant may differ by one step; the scales must match exactly.
TEST_F(AttentionKvQuantTest, KvWriteMatchesHostEncoder) {
  for (DType kv : {Q8, Q4}) {
    for (uint32_t hd : {16u, 64u}) {
      SCOPED_TRACE(std::string(DTypeName(kv)) + " head " + std::to_string(hd));
      const uint32_t kvh = 2, row = kvh * hd, slots = 7, T = 5, start = 12;  // slots 5, 6, 0, 1, 2
      const std::vector<float> kn = RandomVector(size_t(T) * row, 51), vn = RandomVector(size_t(T) * row, 52);
      std::vector<float> kall(size_t(slots) * row, 0.f), vall(size_t(slots) * row, 0.f);
      for (uint32_t t = 0; t < T; ++t) {
        std::copy_n(kn.begin() + size_t(t) * row, row, kall.begin() + size_t((start + t) % slots) * row);
        std::copy_n(vn.begin() + size_t(t) * row, row, vall.begin() + size_t((start + t) % slots) * row);
      }
      const auto [kraw, kc] = NewCache(kv, slots, row, hd);
      const auto [vraw, vc] = NewCache(kv, slots, row, hd);
      // Slots not written keep what was there: the encoding of zeros.
      const std::vector<uint8_t> zeros = EncodeKvQuantized(kv, std::vector<float>(kall.size(), 0.f), hd);
      UploadRaw(kc.slice, zeros.data(), zeros.size());
      UploadRaw(vc.slice, zeros.data(), zeros.size());
      const Tensor tk = NewTensor(T, row), tv = NewTensor(T, row);
      Upload(tk, kn);
      Upload(tv, vn);
      Run([&](OpContext& ctx) { KvWrite(ctx, tk, tv, kc, vc, start, hd); });
      for (int which = 0; which < 2; ++which) {
        const std::vector<float> words = Download(which ? vraw : kraw);
        std::vector<uint8_t> got(words.size() * 4);
        std::memcpy(got.data(), words.data(), got.size());
        const std::vector<uint8_t> want = EncodeKvQuantized(kv, which ? vall : kall, hd);
        ASSERT_EQ(got.size(), want.size());
        const size_t quant_bytes = kv == Q8 ? kall.size() : kall.size() / 2;
        int off_by_one = 0;
        for (size_t i = 0; i < got.size(); ++i) {
          if (i >= quant_bytes) {
            ASSERT_EQ(got[i], want[i]) << "scale byte " << i - quant_bytes;
            continue;
          }
          if (got[i] == want[i]) continue;
          // One step apart (q8_0: the int8; q4_0: either nibble).
          const int a = kv == Q8 ? int(int8_t(got[i])) : 0, b = kv == Q8 ? int(int8_t(want[i])) : 0;
          const bool near = kv == Q8 ? std::abs(a - b) == 1
                                     : std::abs(int(got[i] & 15) - int(want[i] & 15)) <= 1 &&
                                           std::abs(int(got[i] >> 4) - int(want[i] >> 4)) <= 1;
          EXPECT_TRUE(near) << "quant byte " << i << ": " << int(got[i]) << " vs " << int(want[i]);
          ++off_by_one;
        }
        EXPECT_LE(off_by_one, 2) << "more than a tie or two rounded the other way";
      }
    }
  }
}

}  // namespace
}  // namespace vkg::test
