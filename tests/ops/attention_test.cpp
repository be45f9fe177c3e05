// Attention op on the device against ref::Attention: decode and prefill, head dims 16..512, GQA
// ratios 1/2/8/16, full and sliding layers, ring caches, split decode and split GPU prefill, K=V
// layers, and KvWrite + Attention chains, in both kernel families.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "host/ops/attention.h"
#include "host/ops/kv_write.h"
#include "host/ops/plans/attention_plan.h"
#include "host/reference/ref_ops.h"
#include "tests/test_util.h"
#include "vk/check.h"

namespace vkg::test {
namespace {

// NMSE thresholds. The device sees exactly the values the reference sees (K/V are rounded through
// f16 on the host before the reference runs), so the only differences are f32 vs f64 arithmetic
// (dot products of up to 512 terms, a softmax over up to 3001 keys, the split merge) and the
// driver's exp(): relative errors of ~1e-6 at most per output, NMSE ~1e-12. 1e-9 leaves three
// orders of margin and still catches any wrong key, mask edge or head mapping (those give >1e-3).
constexpr double kNmseF32Math = 1e-9;

struct Case {
  std::string name;
  uint32_t T, start_pos, n_heads, n_kv_heads, head_dim, cache_len, window;
  DType kv = DType::F16;
  bool scratch = false;  // pass a scratch tensor (split decode; split GPU prefill, then asserted)
  double nmse = kNmseF32Math;
  // > 0: decode reads its position from a buffer, recorded for this larger position (a replayed
  // decode step: splits planned for the longest cache, those past start_pos empty).
  uint32_t planned_pos = 0;
  // kGpu: the GPU kernel family forced (attention_decode_gpu.comp wherever head_dim % 8 == 0).
  KernelFamily family = KernelFamily::kDevice;
  bool k_is_v = false;  // K=V layers: one cache bound as both K and V
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

ref::AttentionShape RefShape(const Case& c) {
  return {.tokens = int(c.T),
          .start_pos = int(c.start_pos),
          .n_heads = int(c.n_heads),
          .n_kv_heads = int(c.n_kv_heads),
          .head_dim = int(c.head_dim),
          .cache_len = int(c.cache_len),
          .window = int(c.window)};
}

class AttentionTest : public GpuTest, public ::testing::WithParamInterface<Case> {};

TEST_P(AttentionTest, MatchesReference) {
  const Case& c = GetParam();
  const uint32_t row = c.n_kv_heads * c.head_dim;
  const uint32_t qcols = c.n_heads * c.head_dim;
  const uint32_t last = c.start_pos + c.T - 1;
  const uint32_t first = c.window > 0 && c.start_pos + 1 > c.window ? c.start_pos + 1 - c.window : 0;

  // Cache contents: random for the slots holding positions first..last, NaN elsewhere (so a read
  // of a slot no query may see poisons the output).
  std::vector<float> k = RandomVector(size_t(c.cache_len) * row, 1000 + c.head_dim);
  std::vector<float> v = RandomVector(size_t(c.cache_len) * row, 2000 + c.head_dim);
  std::vector<bool> used(c.cache_len, false);
  for (uint32_t j = first; j <= last; ++j) used[j % c.cache_len] = true;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (uint32_t s = 0; s < c.cache_len; ++s) {
    if (used[s]) continue;
    std::fill_n(k.begin() + size_t(s) * row, row, nan);
    std::fill_n(v.begin() + size_t(s) * row, row, nan);
  }
  if (c.kv == DType::F16) {
    for (float& x : k) x = RoundTripHalf(x);
    for (float& x : v) x = RoundTripHalf(x);
  }
  const std::vector<float> q = RandomVector(size_t(c.T) * qcols, 3000 + c.T);

  if (c.k_is_v) v = k;
  std::vector<float> ref(q.size());
  ref::Attention(q.data(), k.data(), v.data(), ref.data(), RefShape(c));

  const Tensor tq = NewTensor(c.T, qcols);
  const Tensor tk = NewTensor(c.cache_len, row, c.kv);
  const Tensor tv = NewTensor(c.cache_len, row, c.kv);
  const Tensor tout = NewTensor(c.T, qcols);
  Upload(tq, q);
  Upload(tk, k);
  Upload(tv, c.k_is_v ? k : v);
  if (c.k_is_v) v = k;
  AttentionShape shape{c.start_pos, c.n_heads, c.n_kv_heads, c.head_dim, c.cache_len, c.window, 1.f};
  const Tensor tpos = NewTensor(1, 1, DType::F32);  // one uint32 (4 bytes)
  if (c.planned_pos) {
    const uint32_t pos = c.start_pos;
    std::vector<float> bits(1);
    std::memcpy(bits.data(), &pos, 4);
    Upload(tpos, bits);
    shape.start_pos = c.planned_pos;
    shape.position = &tpos.slice;
  }
  const uint64_t scratch_floats = AttentionScratchFloats(shape, c.T);
  Tensor tscratch;
  if (c.scratch) {
    ASSERT_GT(scratch_floats, 0u) << "case meant to split has nothing to split";
    tscratch = NewTensor(1, uint32_t(scratch_floats));
  }
  // GPU-family prefill: the plan this device gets. Cases with a head of a multiple of 8 must take
  // the flash kernel (others its fallback), and scratch cases must split their keys.
  if (c.family == KernelFamily::kGpu && c.T > 1) {
    const AttentionPrefillPlan plan =
        PlanAttentionPrefill(gpu().device().caps(), true, shape, c.T, c.kv == DType::F16 ? 2 : 4, c.scratch);
    std::printf("  [%s] plan: %s, BR %u x BC %u, %u row blocks x %u splits of %u keys\n", c.name.c_str(),
                plan.gpu_kernel ? "attention_prefill_gpu" : "attention_prefill (fallback)", plan.rows,
                plan.keys_per_tile, plan.row_blocks, plan.splits, plan.keys_per_split);
    EXPECT_EQ(plan.gpu_kernel, c.head_dim % 8 == 0) << c.name;
    if (c.scratch) {
      EXPECT_GT(plan.splits, 1u) << c.name << ": meant to split the keys";
      EXPECT_GE(scratch_floats, plan.ScratchFloats(c.T, c.n_heads, c.head_dim)) << c.name;
    }
  }
  Run([&](OpContext& ctx) {
    ctx.kernels = c.family;
    Attention(ctx, tq, tk, c.k_is_v ? tk : tv, tout, shape, c.scratch ? &tscratch : nullptr);
  });
  const std::vector<float> got = Download(tout);
  const ErrorStats st = Compare(ref, got);
  std::printf(
      "  [%s] NMSE %.3g max_abs %.3g splits %s\n", c.name.c_str(), st.nmse, st.max_abs,
      c.scratch ? std::to_string(scratch_floats / (uint64_t(c.T) * c.n_heads * (c.head_dim + 2))).c_str() : "1");
  ExpectClose(ref, got, c.nmse, c.name.c_str());
  Download(tk);  // guard checks: the op must not write the caches' neighbours
  if (c.scratch) Download(tscratch);
  // Split GPU-family decode with counters (AttentionShape::split_counters): the last split of each
  // (row block, KV head) combines, one dispatch instead of two, with the same bits as the two
  // passes; the counters come back to zero (run twice, as a replayed step runs it).
  if (c.family == KernelFamily::kGpu && c.T == 1 && c.scratch && c.head_dim % 8 == 0) {
    const Tensor counters = NewTensor(1, c.n_heads);
    Upload(counters, std::vector<float>(c.n_heads, 0.f));
    AttentionShape folded = shape;
    folded.split_counters = &counters.slice;
    for (int run = 0; run < 2; ++run) {
      Upload(tout, std::vector<float>(q.size(), -7.f));
      uint32_t dispatches = 0;
      Run([&](OpContext& ctx) {
        ctx.kernels = c.family;
        Attention(ctx, tq, tk, c.k_is_v ? tk : tv, tout, folded, &tscratch);
        dispatches = ctx.rec.dispatch_count();
      });
      EXPECT_EQ(dispatches, 1u) << c.name << ": pass 1 only";
      EXPECT_EQ(Download(tout), got) << c.name << " run " << run << ": the two passes' bits";
      EXPECT_EQ(Download(counters), std::vector<float>(c.n_heads, 0.f)) << c.name << ": counters left at zero";
    }
  }
}

const auto F16 = DType::F16;
const auto F32 = DType::F32;

// name, T, start_pos, n_heads, n_kv_heads, head_dim, cache_len, window, kv dtype, scratch
INSTANTIATE_TEST_SUITE_P(
    Decode, AttentionTest,
    ::testing::Values(
        Case{"d16_mha_full_pos0", 1, 0, 4, 4, 16, 8, 0, F16},
        Case{"d32_gqa2_full_pos37_f32", 1, 37, 8, 4, 32, 64, 0, F32},
        Case{"d256_gqa8_slide16_before_edge", 1, 14, 8, 1, 256, 16, 16, F16},
        Case{"d256_gqa8_slide16_at_edge", 1, 15, 8, 1, 256, 16, 16, F16},
        Case{"d256_gqa2_slide16_after_edge_ring", 1, 16, 4, 2, 256, 16, 16, F16},
        Case{"d256_gqa1_slide16_ring_wrapped", 1, 1000, 2, 2, 256, 16, 16, F32},
        Case{"d512_gqa2_slide32_ring_wrapped", 1, 1000, 2, 1, 512, 32, 32, F16},
        Case{"d512_gqa8_full_pos3000_split", 1, 3000, 8, 1, 512, 3001, 0, F16, true},
        Case{"d512_gqa8_full_pos3000_nosplit", 1, 3000, 8, 1, 512, 3001, 0, F16, false},
        Case{"d256_gqa2_full_pos3000_split_f32", 1, 3000, 4, 2, 256, 3072, 0, F32, true},
        Case{"d256_gqa2_slide512_pos3000_split_ring", 1, 3000, 4, 2, 256, 512, 512, F16, true},
        Case{"d16_gqa8_full_pos300_split", 1, 300, 8, 1, 16, 301, 0, F16, true},
        // position from a buffer, splits planned for the end of the cache (replayed decode)
        Case{"d256_gqa2_full_pos300_replay_plan4095", 1, 300, 4, 2, 256, 4096, 0, F16, true, kNmseF32Math, 4095},
        Case{"d16_mha_full_pos0_replay_plan1023_f32", 1, 0, 4, 4, 16, 1024, 0, F32, true, kNmseF32Math, 1023},
        Case{"d512_gqa8_slide512_pos3000_replay_ring", 1, 3000, 8, 1, 512, 512, 512, F16, true, kNmseF32Math, 8191},
        Case{"d256_gqa8_slide16_pos5_replay_nosplit", 1, 5, 8, 1, 256, 16, 16, F16, false, kNmseF32Math, 900}),
    [](const auto& info) { return info.param.name; });

// The GPU kernel family forced on this device: every decode case above, plus the shapes only it
// plans differently: long contexts split into hundreds of 32-key splits, two row blocks per KV
// head (group 16), the 31B full layer's 32 heads over 4 KV heads, K=V layers, heads of 8..40
// values, and a head that is not a multiple of 8 (the plan falls back to the CPU kernel).
Case Gpu(Case c) {
  c.name = "gpu_" + c.name;
  c.family = KernelFamily::kGpu;
  return c;
}
Case KeqV(Case c) {
  c.name += "_k_eq_v";
  c.k_is_v = true;
  return c;
}

INSTANTIATE_TEST_SUITE_P(
    GpuDecode, AttentionTest,
    ::testing::Values(
        Gpu(Case{"d16_mha_full_pos0", 1, 0, 4, 4, 16, 8, 0, F16}),
        Gpu(Case{"d32_gqa2_full_pos37_f32", 1, 37, 8, 4, 32, 64, 0, F32}),
        Gpu(Case{"d256_gqa8_slide16_before_edge", 1, 14, 8, 1, 256, 16, 16, F16}),
        Gpu(Case{"d256_gqa8_slide16_at_edge", 1, 15, 8, 1, 256, 16, 16, F16}),
        Gpu(Case{"d256_gqa2_slide16_after_edge_ring", 1, 16, 4, 2, 256, 16, 16, F16}),
        Gpu(Case{"d256_gqa1_slide16_ring_wrapped", 1, 1000, 2, 2, 256, 16, 16, F32}),
        Gpu(Case{"d512_gqa2_slide32_ring_wrapped", 1, 1000, 2, 1, 512, 32, 32, F16}),
        Gpu(Case{"d512_gqa8_full_pos3000_split", 1, 3000, 8, 1, 512, 3001, 0, F16, true}),
        Gpu(Case{"d512_gqa8_full_pos3000_nosplit", 1, 3000, 8, 1, 512, 3001, 0, F16, false}),
        Gpu(Case{"d256_gqa2_full_pos3000_split_f32", 1, 3000, 4, 2, 256, 3072, 0, F32, true}),
        Gpu(Case{"d256_gqa2_slide512_pos3000_split_ring", 1, 3000, 4, 2, 256, 512, 512, F16, true}),
        Gpu(Case{"d16_gqa8_full_pos300_split", 1, 300, 8, 1, 16, 301, 0, F16, true}),
        Gpu(Case{"d256_gqa2_full_pos300_replay_plan4095", 1, 300, 4, 2, 256, 4096, 0, F16, true, kNmseF32Math, 4095}),
        Gpu(Case{"d16_mha_full_pos0_replay_plan1023_f32", 1, 0, 4, 4, 16, 1024, 0, F32, true, kNmseF32Math, 1023}),
        Gpu(Case{"d512_gqa8_slide512_pos3000_replay_ring", 1, 3000, 8, 1, 512, 512, 512, F16, true, kNmseF32Math,
                 8191}),
        Gpu(Case{"d256_gqa8_slide16_pos5_replay_nosplit", 1, 5, 8, 1, 256, 16, 16, F16, false, kNmseF32Math, 900}),
        Gpu(Case{"d512_gqa8_full_pos8191_split", 1, 8191, 8, 1, 512, 8192, 0, F16, true}),
        Gpu(Case{"d512_31b_full_32h_4kv_pos4095_split", 1, 4095, 32, 4, 512, 4096, 0, F16, true}),
        Gpu(KeqV(Case{"d512_gqa8_full_pos2047_split", 1, 2047, 16, 2, 512, 2048, 0, F16, true})),
        Gpu(KeqV(Case{"d256_gqa2_slide64_pos900_ring_f32", 1, 900, 4, 2, 256, 64, 64, F32, true})),
        Gpu(Case{"d256_group16_two_row_blocks_pos700_split", 1, 700, 16, 1, 256, 701, 0, F16, true}),
        Gpu(Case{"d24_gqa3_full_pos77_split", 1, 77, 6, 2, 24, 78, 0, F16, true}),
        Gpu(Case{"d40_gqa5_full_pos33_f32", 1, 33, 5, 1, 40, 34, 0, F32}),
        Gpu(Case{"d18_gqa2_not_multiple_of_8_falls_back", 1, 500, 4, 2, 18, 501, 0, F16, true}),
        Gpu(Case{"d256_gqa8_full_pos40_replay_plan32767", 1, 40, 8, 1, 256, 32768, 0, F16, true, kNmseF32Math, 32767})),
    [](const auto& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(Prefill, AttentionTest,
                         ::testing::Values(Case{"d16_mha_full_T23", 23, 0, 4, 4, 16, 23, 0, F32},
                                           Case{"d32_gqa2_full_T27_start5", 27, 5, 4, 2, 32, 32, 0, F16},
                                           // positions 0..22 with W = 16: before, at (15) and after the window edge
                                           Case{"d256_gqa8_slide16_T23_edges", 23, 0, 8, 1, 256, 38, 16, F16},
                                           // ring of W + T - 1 slots, positions 200..226 (the ring wrapped 4 times)
                                           Case{"d256_mha_slide16_T27_ring_min", 27, 200, 2, 2, 256, 42, 16, F16},
                                           Case{"d512_gqa2_full_T9_start100", 9, 100, 4, 2, 512, 128, 0, F16},
                                           Case{"d512_gqa8_slide8_T23_ring_f32", 23, 50, 8, 1, 512, 30, 8, F32},
                                           Case{"d32_gqa8_slide4_T2", 2, 3, 8, 1, 32, 5, 4, F16}),
                         [](const auto& info) { return info.param.name; });

// The GPU kernel family forced on prefill: attention_prefill_gpu.comp (flash attention, query
// blocks x key tiles through shared memory) at head dims 8..512, GQA 1/2/3/5/8/16 (blocks of one
// token's part of a group, of whole groups, and straddling tokens), chunks of 2..300 tokens that
// are not multiples of the blocks, chunks continuing a cache (start_pos > 0), sliding windows
// smaller than the chunk on minimal rings, K=V layers, f16 and f32 caches, split-key plans (scratch
// passed: asserted to split), and heads that are not a multiple of 8 (the plan falls back to
// attention_prefill.comp).
INSTANTIATE_TEST_SUITE_P(
    GpuPrefill, AttentionTest,
    ::testing::Values(
        Gpu(Case{"d16_mha_full_T23", 23, 0, 4, 4, 16, 23, 0, F32}),
        Gpu(Case{"d32_gqa2_full_T27_start5", 27, 5, 4, 2, 32, 32, 0, F16}),
        Gpu(Case{"d256_gqa8_slide16_T23_edges", 23, 0, 8, 1, 256, 38, 16, F16}),
        Gpu(Case{"d256_mha_slide16_T27_ring_min", 27, 200, 2, 2, 256, 42, 16, F16}),
        Gpu(Case{"d512_gqa2_full_T9_start100", 9, 100, 4, 2, 512, 128, 0, F16}),
        Gpu(Case{"d512_gqa8_slide8_T23_ring_f32", 23, 50, 8, 1, 512, 30, 8, F32}),
        Gpu(Case{"d32_gqa8_slide4_T2", 2, 3, 8, 1, 32, 5, 4, F16}),
        Gpu(Case{"d8_gqa1_full_T2", 2, 0, 1, 1, 8, 2, 0, F16}),
        Gpu(Case{"d256_gqa1_full_T300", 300, 0, 2, 2, 256, 300, 0, F16}),
        Gpu(Case{"d256_gqa8_full_T300_split", 300, 0, 8, 1, 256, 300, 0, F16, true}),
        Gpu(Case{"d512_gqa8_full_T130_start200_split", 130, 200, 8, 1, 512, 330, 0, F16, true}),
        Gpu(Case{"d512_gqa8_full_T61_start7_split_f32", 61, 7, 8, 1, 512, 68, 0, F32, true}),
        Gpu(Case{"d256_gqa16_full_T70_start33_split", 70, 33, 16, 1, 256, 103, 0, F16, true}),
        Gpu(Case{"d512_gqa16_full_T37", 37, 0, 16, 1, 512, 37, 0, F16}),
        Gpu(Case{"d256_gqa2_slide64_T200_start300_ring", 200, 300, 4, 2, 256, 263, 64, F16}),
        Gpu(Case{"d256_gqa8_slide100_T150_start1000_ring_split", 150, 1000, 8, 1, 256, 249, 100, F16, true}),
        Gpu(Case{"d512_gqa8_slide96_T97_start400_ring_split_f32", 97, 400, 8, 1, 512, 192, 96, F32, true}),
        Gpu(KeqV(Case{"d512_gqa8_full_T100_start20_split", 100, 20, 8, 1, 512, 120, 0, F16, true})),
        Gpu(KeqV(Case{"d512_31b_full_32h_4kv_T33_start64", 33, 64, 32, 4, 512, 97, 0, F16})),
        Gpu(KeqV(Case{"d256_gqa2_slide96_T45_start177_ring_split_f32", 45, 177, 4, 2, 256, 140, 96, F32, true})),
        Gpu(Case{"d256_31b_slide_32h_16kv_T40_start500_ring", 40, 500, 32, 16, 256, 551, 512, F16}),
        Gpu(Case{"d24_gqa3_full_T50_start9", 50, 9, 6, 2, 24, 59, 0, F16}),
        Gpu(Case{"d40_gqa5_slide20_T31_start3_ring_f32", 31, 3, 5, 1, 40, 34, 20, F32}),
        Gpu(Case{"d18_gqa2_not_multiple_of_8_falls_back", 41, 6, 4, 2, 18, 47, 0, F16})),
    [](const auto& info) { return info.param.name; });

class AttentionChecks : public GpuTest {};

// A sliding layer's ring must hold window + T - 1 slots during a T-token chunk.
TEST_F(AttentionChecks, RejectsRingTooShortForChunk) {
  const uint32_t W = 8, T = 5, hd = 16;
  const Tensor q = NewTensor(T, hd), out = NewTensor(T, hd);
  const Tensor k = NewTensor(W + T - 2, hd, DType::F16), v = NewTensor(W + T - 2, hd, DType::F16);
  const AttentionShape shape{40, 1, 1, hd, W + T - 2, W, 1.f};
  Run([&](OpContext& ctx) { EXPECT_THROW(Attention(ctx, q, k, v, out, shape), vk::Error); });
  const Tensor k2 = NewTensor(W + T - 1, hd, DType::F16), v2 = NewTensor(W + T - 1, hd, DType::F16);
  AttentionShape ok = shape;
  ok.cache_len = W + T - 1;
  Run([&](OpContext& ctx) { EXPECT_NO_THROW(Attention(ctx, q, k2, v2, out, ok)); });
}

TEST_F(AttentionChecks, RejectsOddHeadDimAndBadGroups) {
  const Tensor q = NewTensor(1, 3 * 15), out = NewTensor(1, 3 * 15);
  const Tensor k = NewTensor(8, 2 * 15, DType::F16), v = NewTensor(8, 2 * 15, DType::F16);
  Run([&](OpContext& ctx) {
    EXPECT_THROW(Attention(ctx, q, k, v, out, AttentionShape{0, 3, 2, 15, 8, 0, 1.f}), vk::Error);
  });
}

// The real use: chunked prefill then decode on a sliding layer with a minimal ring, each step
// KvWrite then Attention in one command buffer; compared with the reference on a plain linear
// cache of every position (so the ring bookkeeping is checked independently of ref's ring).
TEST_F(AttentionChecks, ChunkedPrefillThenDecodeOnRingMatchesLinearCache) {
  for (KernelFamily family : {KernelFamily::kCpu, KernelFamily::kGpu}) {
    SCOPED_TRACE(family == KernelFamily::kGpu ? "GPU kernel family" : "CPU kernel family");
    const uint32_t nh = 4, kvh = 2, hd = 32, W = 8, chunk = 5, prompt = 23, steps = 12;
    const uint32_t total = prompt + steps, ring = W + chunk - 1, row = kvh * hd;
    const std::vector<float> k_all = RandomVector(size_t(total) * row, 11);
    const std::vector<float> v_all = RandomVector(size_t(total) * row, 12);
    const std::vector<float> q_all = RandomVector(size_t(total) * nh * hd, 13);
    std::vector<float> k16(k_all.size()), v16(v_all.size());
    for (size_t i = 0; i < k16.size(); ++i) k16[i] = RoundTripHalf(k_all[i]), v16[i] = RoundTripHalf(v_all[i]);

    const Tensor kc = NewTensor(ring, row, DType::F16), vc = NewTensor(ring, row, DType::F16);
    double worst = 0;
    for (uint32_t pos = 0; pos < total;) {
      const uint32_t T = pos < prompt ? std::min(chunk, prompt - pos) : 1;
      const Tensor kn = NewTensor(T, row), vn = NewTensor(T, row);
      const Tensor q = NewTensor(T, nh * hd), out = NewTensor(T, nh * hd);
      Upload(kn, std::span<const float>(k_all).subspan(size_t(pos) * row, size_t(T) * row));
      Upload(vn, std::span<const float>(v_all).subspan(size_t(pos) * row, size_t(T) * row));
      Upload(q, std::span<const float>(q_all).subspan(size_t(pos) * nh * hd, size_t(T) * nh * hd));
      const AttentionShape shape{pos, nh, kvh, hd, ring, W, 1.f};
      Run(
          [&](OpContext& ctx) {
            KvWrite(ctx, kn, vn, kc, vc, pos);
            ctx.rec.ComputeToCompute();
            Attention(ctx, q, kc, vc, out, shape);
          },
          family);
      std::vector<float> ref(size_t(T) * nh * hd);
      ref::Attention(q_all.data() + size_t(pos) * nh * hd, k16.data(), v16.data(), ref.data(),
                     ref::AttentionShape{.tokens = int(T),
                                         .start_pos = int(pos),
                                         .n_heads = int(nh),
                                         .n_kv_heads = int(kvh),
                                         .head_dim = int(hd),
                                         .cache_len = int(total),
                                         .window = int(W)});
      const std::vector<float> got = Download(out);
      worst = std::max(worst, Compare(ref, got).nmse);
      ExpectClose(ref, got, kNmseF32Math, ("step at position " + std::to_string(pos)).c_str());
      pos += T;
    }
    std::printf("  [ring chain, %s family] worst NMSE %.3g\n", family == KernelFamily::kGpu ? "GPU" : "CPU", worst);
    Download(kc);
    Download(vc);
  }
}

}  // namespace
}  // namespace vkg::test
