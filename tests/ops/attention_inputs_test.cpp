// PrepareAttentionInputs (the fused per-head norms + RoPE + KV append) against the reference ops run
// one after the other: ref::RmsNorm per head, ref::Rope, then the cache rows rounded to the cache
// dtype. Cache slots the chunk does not own must keep their old contents.
#include <cstring>
#include <string>
#include <vector>

#include "host/formats/dtype.h"
#include "host/ops/attention_inputs.h"
#include "host/reference/ref_ops.h"
#include "tests/test_util.h"
#include "vk/check.h"

namespace vkg::test {
namespace {

struct Case {
  std::string name;
  uint32_t T, n_heads, n_kv_heads, head_dim, start_pos, cache_len;
  uint32_t rotary_pairs;  // head_dim / 2, or 64 for Gemma 4's proportional RoPE on 512-dim heads
  bool k_eq_v;            // V comes from the raw K (layers without v_proj)
  DType cache = DType::F16;
  bool position_buffer = false;  // start_pos comes from a device buffer (a replayed decode step)
};
std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

// NMSE thresholds. f32 values: both sides compute the same products; the device's inverse RMS
// (f32 sum) and sin/cos (math.glsl) are within a few ulp of the reference's double ones, NMSE
// ~1e-14 (the RoPE and RMSNorm op tests measure the same). f16 cache rows: both round their f32
// value to f16, and the rare value whose two f32 results straddle a rounding boundary differs by
// one f16 ulp (2^-11 relative), so NMSE stays far below 2^-22 = 2.4e-7 even if many did.
double Threshold(DType cache) { return cache == DType::F32 ? 1e-11 : 2.4e-7; }

class AttentionInputsTest : public GpuTest, public ::testing::WithParamInterface<Case> {};

TEST_P(AttentionInputsTest, MatchesNormRopeAndKvWrite) {
  const Case& c = GetParam();
  const uint32_t D = c.head_dim, qrow = c.n_heads * D, kvrow = c.n_kv_heads * D;
  const float eps = 1e-6f;
  std::vector<float> q = RandomVector(size_t(c.T) * qrow, 1 + D, -3.f, 3.f);
  const std::vector<float> k = RandomVector(size_t(c.T) * kvrow, 2 + D, -3.f, 3.f);
  const std::vector<float> v = c.k_eq_v ? k : RandomVector(size_t(c.T) * kvrow, 3 + D, -3.f, 3.f);
  const std::vector<float> q_norm = RandomVector(D, 4, 0.5f, 1.5f), k_norm = RandomVector(D, 5, 0.5f, 1.5f);
  const std::vector<float> inv_freq = ref::RopeInvFreq(int(D), D == 512 ? 1e6f : 1e4f, int(c.rotary_pairs));
  std::vector<float> k_cache = RandomVector(size_t(c.cache_len) * kvrow, 6);  // old contents
  std::vector<float> v_cache = RandomVector(size_t(c.cache_len) * kvrow, 7);
  k_cache = RoundTripThrough(c.cache, k_cache);
  v_cache = RoundTripThrough(c.cache, v_cache);

  // The stacked projection rows: q | k | v (no v on K=V layers, no k or v on KV-shared ones), and
  // 4 spare columns so that the row stride is not just the sum of the parts.
  const uint32_t v_cols = c.n_kv_heads && !c.k_eq_v ? kvrow : 0;
  const uint32_t cols = qrow + kvrow + v_cols + 4;
  std::vector<float> qkv = RandomVector(size_t(c.T) * cols, 8, -3.f, 3.f);
  for (uint32_t t = 0; t < c.T; ++t) {
    std::copy_n(&q[size_t(t) * qrow], qrow, &qkv[size_t(t) * cols]);
    std::copy_n(&k[size_t(t) * kvrow], kvrow, &qkv[size_t(t) * cols + qrow]);
    if (v_cols) std::copy_n(&v[size_t(t) * kvrow], kvrow, &qkv[size_t(t) * cols + qrow + kvrow]);
  }
  const Tensor tqkv = NewTensor(c.T, cols), tq = NewTensor(c.T, qrow);
  const Tensor tqn = NewTensor(1, D), tkn = NewTensor(1, D), tf = NewTensor(1, D / 2);
  Upload(tqkv, qkv);
  Upload(tqn, q_norm);
  Upload(tkn, k_norm);
  Upload(tf, inv_freq);
  AttentionInputs in{
      .qkv = tqkv, .q = tq, .q_norm = tqn, .n_heads = c.n_heads, .head_dim = D, .inv_freq = tf, .eps = eps};
  Tensor tkc, tvc;
  if (c.n_kv_heads) {
    tkc = NewTensor(c.cache_len, kvrow, c.cache);
    tvc = NewTensor(c.cache_len, kvrow, c.cache);
    Upload(tkc, k_cache);
    Upload(tvc, v_cache);
    in.k_col = qrow, in.v_col = v_cols ? qrow + kvrow : qrow;
    in.k_norm = tkn, in.k_cache = tkc, in.v_cache = tvc, in.n_kv_heads = c.n_kv_heads;
  }
  const Tensor tpos = NewTensor(1, 1);
  if (c.position_buffer) {
    std::vector<float> bits(1);
    std::memcpy(bits.data(), &c.start_pos, 4);
    Upload(tpos, bits);
    in.position = &tpos.slice;
  }
  // With a position buffer the argument must be ignored: pass a wrong one.
  Run([&](OpContext& ctx) { PrepareAttentionInputs(ctx, in, c.position_buffer ? c.start_pos + 77 : c.start_pos); });

  // Reference: the unfused sequence of docs/model.md §2.4.
  std::vector<int32_t> pos(c.T);
  for (uint32_t t = 0; t < c.T; ++t) pos[t] = int32_t(c.start_pos + t);
  ref::RmsNorm(q.data(), q_norm.data(), q.data(), int(c.T * c.n_heads), int(D), eps);
  ref::Rope(q.data(), int(c.T), int(c.n_heads), int(D), pos.data(), inv_freq.data());
  ExpectClose(q, Download(tq), 1e-11, "q");
  if (!c.n_kv_heads) return;
  std::vector<float> kr = k, vr = v;
  ref::RmsNorm(kr.data(), k_norm.data(), kr.data(), int(c.T * c.n_kv_heads), int(D), eps);
  ref::Rope(kr.data(), int(c.T), int(c.n_kv_heads), int(D), pos.data(), inv_freq.data());
  ref::RmsNorm(vr.data(), nullptr, vr.data(), int(c.T * c.n_kv_heads), int(D), eps);
  for (uint32_t t = 0; t < c.T; ++t) {
    const size_t slot = (c.start_pos + t) % c.cache_len;
    std::copy_n(&kr[size_t(t) * kvrow], kvrow, &k_cache[slot * kvrow]);
    std::copy_n(&vr[size_t(t) * kvrow], kvrow, &v_cache[slot * kvrow]);
  }
  ExpectClose(RoundTripThrough(c.cache, k_cache), Download(tkc), Threshold(c.cache), "k cache");
  ExpectClose(RoundTripThrough(c.cache, v_cache), Download(tvc), Threshold(c.cache), "v cache");
  EXPECT_EQ(Download(tqkv), qkv) << "the projection is read only";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, AttentionInputsTest,
    ::testing::Values(
        // E2B sliding layer, decode deep into a 512-slot ring
        Case{"decode_e2b_sliding_ring", 1, 8, 1, 256, 1000, 512, 128, false},
        // 31B full layer: 512-dim heads, 64 of 256 pairs rotated, K=V, f32 cache
        Case{"decode_31b_full_k_eq_v", 1, 32, 4, 512, 4095, 4096, 64, true, DType::F32},
        // prefill chunk wrapping around a ring
        Case{"prefill_T23_ring_wrap", 23, 4, 2, 64, 30, 40, 32, false},
        Case{"prefill_T9_d16_gqa1", 9, 2, 2, 16, 0, 16, 8, false, DType::F32},
        Case{"prefill_T5_d512_proportional", 5, 4, 1, 512, 7, 64, 64, true},
        // KV-shared layer: q only, no cache
        Case{"shared_kv_q_only", 3, 8, 0, 256, 100, 0, 128, false},
        Case{"decode_position_buffer", 1, 8, 1, 256, 700, 512, 128, false, DType::F16, true},
        Case{"decode_position_buffer_shared_kv", 1, 8, 0, 512, 4000, 0, 64, false, DType::F16, true},
        // the end of Gemma 4's 262144-position range: RoPE angles near 2^18 rad (math.glsl sinCos)
        Case{"decode_pos262143_sliding_ring", 1, 8, 1, 256, 262143, 512, 128, false, DType::F32},
        Case{"prefill_T3_pos262141_full_proportional", 3, 4, 1, 512, 262141, 8, 64, true, DType::F32, true}),
    [](const auto& info) { return info.param.name; });

class AttentionInputsChecks : public GpuTest {};

TEST_F(AttentionInputsChecks, RejectsBadShapes) {
  const Tensor qkv = NewTensor(2, 2 * 64 + 2 * 64), q = NewTensor(2, 2 * 64), n = NewTensor(1, 64),
               f = NewTensor(1, 32);
  const Tensor kc = NewTensor(8, 64, DType::F16), small = NewTensor(1, 64, DType::F16);
  Run([&](OpContext& ctx) {
    AttentionInputs in{.qkv = qkv,
                       .k_col = 128,
                       .v_col = 192,
                       .q = q,
                       .q_norm = n,
                       .n_heads = 2,
                       .head_dim = 64,
                       .inv_freq = f,
                       .n_kv_heads = 1,
                       .k_norm = n,
                       .k_cache = kc,
                       .v_cache = kc};
    EXPECT_NO_THROW(PrepareAttentionInputs(ctx, in, 0));
    in.head_dim = 62;
    EXPECT_THROW(PrepareAttentionInputs(ctx, in, 0), vk::Error);  // not a multiple of 4
    in.head_dim = 64;
    in.k_cache = small, in.v_cache = small;
    EXPECT_THROW(PrepareAttentionInputs(ctx, in, 0), vk::Error);  // 2 tokens into 1 slot
    in.k_cache = kc, in.v_cache = kc, in.v_col = 200;
    EXPECT_THROW(PrepareAttentionInputs(ctx, in, 0), vk::Error);  // V past the end of the rows
    in.v_col = 192, in.n_heads = 3;
    EXPECT_THROW(PrepareAttentionInputs(ctx, in, 0), vk::Error);  // q holds 2 heads
  });
}

}  // namespace
}  // namespace vkg::test
