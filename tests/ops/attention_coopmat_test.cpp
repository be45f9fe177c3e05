// Flash-attention prefill on matrix units (shaders/attention_prefill_coopmat.comp) against
// ref::Attention: the kernel on emulated fragments on any device (lavapipe has no
// VK_KHR_cooperative_matrix) over head dims 64, 256 and 512, GQA 1..8 and the 31B layouts, chunks
// of 2..300 tokens, start_pos > 0, sliding windows on minimal rings, K=V layers, f16 and f32 caches,
// asserted key splits and a rescale-heavy case; the real units where the device has them
// (reported as not run, with the reason, elsewhere); and which kernel a context plans.
#include <cstdio>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "host/ops/attention.h"
#include "host/ops/matmul_coopmat.h"
#include "host/ops/plans/attention_plan.h"
#include "host/reference/ref_ops.h"
#include "tests/sweep.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

// Tolerances. The kernel rounds q (and, from f32 caches, K and V) to f16 and rounds P = exp(S - m)
// to f16 before P V (relative 2^-11 per weight), with every product and sum in f32.
// - Against a reference fed the same f16-rounded q, K and V, what remains is P's rounding: each
//   output is a convex mix of V rows whose weights are off by <= 2^-11 relative, NMSE ~1e-8 on
//   random data (measured 1e-9..1e-8); 1e-6 keeps two orders of margin and still catches a wrong
//   key, mask edge, head mapping or lost rescale (those give NMSE > 1e-3).
// - Against the plain f32 reference (q not rounded): docs/verification.md's bound for f16 arithmetic, 5e-4.
constexpr double kRoundedNmse = 1e-6;
constexpr double kPlainNmse = 5e-4;

struct Case {
  std::string name;
  uint32_t T, start_pos, n_heads, n_kv_heads, head_dim, cache_len, window;
  DType kv = DType::F16;
  bool scratch = false;  // pass a scratch tensor: the plan must split the keys
  bool k_is_v = false;   // K=V layer: one cache bound as both
  float q_range = 1.f;   // q in [-q_range, q_range]: 4 gives scores of ~20 sigma, moving the row maxima often
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

enum class Path { kEmulated, kUnits };

class AttentionCoopMatTest : public GpuTest {
 protected:
  void RunCase(const Case& c, Path path);
};

// Runs `c` on the context's matrix-unit path and checks it against both references.
void AttentionCoopMatTest::RunCase(const Case& c, Path path) {
  const uint32_t row = c.n_kv_heads * c.head_dim, qcols = c.n_heads * c.head_dim;
  const uint32_t last = c.start_pos + c.T - 1;
  const uint32_t first = c.window > 0 && c.start_pos + 1 > c.window ? c.start_pos + 1 - c.window : 0;
  // Cache slots no query may see hold NaN: a read of one poisons the output.
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
  if (c.k_is_v) v = k;
  const std::vector<float> q = RandomVector(size_t(c.T) * qcols, 3000 + c.T, -c.q_range, c.q_range);
  std::vector<float> q16 = q, k16 = k, v16 = v;
  for (float& x : q16) x = RoundTripHalf(x);
  for (float& x : k16) x = RoundTripHalf(x);  // NaN stays NaN
  for (float& x : v16) x = RoundTripHalf(x);
  std::vector<float> ref(q.size()), ref16(q.size());
  const ref::AttentionShape ref_shape{.tokens = int(c.T),
                                      .start_pos = int(c.start_pos),
                                      .n_heads = int(c.n_heads),
                                      .n_kv_heads = int(c.n_kv_heads),
                                      .head_dim = int(c.head_dim),
                                      .cache_len = int(c.cache_len),
                                      .window = int(c.window)};
  ref::Attention(q.data(), k.data(), v.data(), ref.data(), ref_shape);
  ref::Attention(q16.data(), k16.data(), v16.data(), ref16.data(), ref_shape);

  const Tensor tq = NewTensor(c.T, qcols), tout = NewTensor(c.T, qcols);
  const Tensor tk = NewTensor(c.cache_len, row, c.kv), tv = NewTensor(c.cache_len, row, c.kv);
  Upload(tq, q);
  Upload(tk, k);
  Upload(tv, v);
  const AttentionShape shape{c.start_pos, c.n_heads, c.n_kv_heads, c.head_dim, c.cache_len, c.window, 1.f};
  Tensor tscratch;
  if (c.scratch) tscratch = NewTensor(1, uint32_t(AttentionScratchFloats(shape, c.T)));
  auto setup = [&](OpContext& ctx) {
    ctx.kernels = KernelFamily::kGpu;
    ctx.features.emulate_cooperative_matrix = path == Path::kEmulated;
  };
  const uint32_t kvb = c.kv == DType::F16 ? 2 : 4;
  Run([&](OpContext& ctx) {
    setup(ctx);
    // The plan this context records: the matrix-unit kernel, split where the case passes scratch.
    const AttentionPrefillPlan plan = PlanAttentionPrefillFor(ctx, shape, c.T, kvb, c.scratch);
    std::printf(
        "  [%s] plan: %s, unit %ux%ux%u, BR %u x BC %u (KSPLIT %u, %u B shared), %u row blocks x %u splits "
        "of %u keys, %llu loop iterations\n",
        c.name.c_str(), plan.coopmat ? "attention_prefill_coopmat" : "NOT the matrix-unit kernel", plan.fm, plan.fn,
        plan.fk, plan.rows, plan.keys_per_tile, plan.ksplit, plan.shared_bytes, plan.row_blocks, plan.splits,
        plan.keys_per_split, (unsigned long long)plan.loop_iterations);
    EXPECT_TRUE(plan.coopmat) << c.name;
    if (c.scratch) {
      EXPECT_GT(plan.splits, 1u) << c.name << ": meant to split the keys";
      EXPECT_GE(tscratch.elements(), plan.ScratchFloats(c.T, c.n_heads, c.head_dim)) << c.name;
    } else {
      EXPECT_EQ(plan.splits, 1u) << c.name;
    }
    Attention(ctx, tq, tk, c.k_is_v ? tk : tv, tout, shape, c.scratch ? &tscratch : nullptr);
  });
  const std::vector<float> got = Download(tout);
  std::printf("  [%s] NMSE %.3g vs the f16-rounded reference, %.3g vs the plain one (max abs %.3g)\n", c.name.c_str(),
              Compare(ref16, got).nmse, Compare(ref, got).nmse, Compare(ref, got).max_abs);
  ExpectClose(ref16, got, kRoundedNmse, (c.name + " (f16-rounded reference)").c_str());
  ExpectClose(ref, got, kPlainNmse, (c.name + " (plain reference)").c_str());
  Download(tk);  // guard checks
  if (c.scratch) Download(tscratch);
}

const auto F16 = DType::F16;
const auto F32 = DType::F32;

Case KeqV(Case c) {
  c.name += "_k_eq_v";
  c.k_is_v = true;
  return c;
}

// Few pipeline variants (each a lavapipe compile of seconds): heads 64 / 256 / 512 on f16 caches,
// 256 and 512 on f32, K=V at 256 and 512.
const Case kCases[] = {
    Case{"d64_mha_full_T2", 2, 0, 2, 2, 64, 2, 0, F16},
    Case{"d64_gqa4_full_T37_start100_split", 37, 100, 8, 2, 64, 137, 0, F16, true},
    // positions 0..22 with W = 16: before, at (15) and after the window edge
    Case{"d256_gqa8_slide16_T23_edges", 23, 0, 8, 1, 256, 38, 16, F16},
    Case{"d256_gqa3_full_T50_start9", 50, 9, 6, 2, 256, 59, 0, F16},
    Case{"d256_gqa2_slide64_T200_start300_ring", 200, 300, 4, 2, 256, 263, 64, F16, true},
    Case{"d256_gqa8_full_T300_split", 300, 0, 8, 1, 256, 300, 0, F16, true},
    Case{"d256_gqa8_full_T120_nosplit", 120, 0, 8, 1, 256, 120, 0, F16},
    Case{"d256_gqa8_full_T150_start40_rescales_split", 150, 40, 8, 1, 256, 190, 0, F16, true, false, 4.f},
    Case{"d256_31b_slide_32h_16kv_T40_start500_ring", 40, 500, 32, 16, 256, 551, 512, F16},
    KeqV(Case{"d256_gqa2_slide96_T45_start177_ring_split_f32", 45, 177, 4, 2, 256, 140, 96, F32, true}),
    Case{"d512_gqa8_full_T61_start7_split", 61, 7, 8, 1, 512, 68, 0, F16, true},
    Case{"d512_gqa8_slide8_T23_ring_f32", 23, 50, 8, 1, 512, 30, 8, F32},
    KeqV(Case{"d512_31b_full_32h_4kv_T33_start64", 33, 64, 32, 4, 512, 97, 0, F16}),
};

// ---- emulated fragments ----

class AttentionCoopMatEmulated : public AttentionCoopMatTest, public ::testing::WithParamInterface<Case> {};

// A long sweep (label "long"): CI runs a sample covering heads 64 / 256 / 512, f16 and f32 caches,
// split keys, a wrapped ring and K = V; VKG_SWEEP=full runs every case.
TEST_P(AttentionCoopMatEmulated, MatchesReference) {
  static const std::set<std::string> kSample = {
      "d64_gqa4_full_T37_start100_split", "d256_gqa2_slide64_T200_start300_ring",
      "d256_gqa2_slide96_T45_start177_ring_split_f32_k_eq_v", "d512_gqa8_slide8_T23_ring_f32",
      "d512_31b_full_32h_4kv_T33_start64_k_eq_v"};
  VKG_SWEEP_SAMPLE(kSample.count(GetParam().name) > 0);
  RunCase(GetParam(), Path::kEmulated);
}

INSTANTIATE_TEST_SUITE_P(All, AttentionCoopMatEmulated, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return info.param.name; });

// ---- the real matrix units, where the device has them ----

class AttentionCoopMatUnits : public AttentionCoopMatTest, public ::testing::WithParamInterface<Case> {};

TEST_P(AttentionCoopMatUnits, MatchesReference) {
  const vk::DeviceCaps& caps = gpu().device().caps();
  if (!CoopMatKernelsCompiled())
    GTEST_SKIP() << "not run: this build's glslangValidator cannot compile GL_KHR_cooperative_matrix "
                    "(tools/glslang.sh builds one that can)";
  if (!caps.HasCoopMatF16())
    GTEST_SKIP() << "not run: device '" << caps.name << "' has no VK_KHR_cooperative_matrix with an f16 x f16 -> "
                 << "f32 subgroup shape (and shaderFloat16 + vulkanMemoryModel)";
  RunCase(GetParam(), Path::kUnits);
}

INSTANTIATE_TEST_SUITE_P(All, AttentionCoopMatUnits, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return info.param.name; });

// ---- which kernel a context plans ----

// The GPU family takes the matrix-unit kernel where the context's path (CoopMatPrefillPath) is the
// units or the emulation, the flash kernel otherwise; the CPU family and cooperative_matrix = kOff
// never take it; heads its units cannot tile (not a multiple of the unit) keep the flash kernel.
TEST_F(AttentionCoopMatTest, PlanFollowsFamilyFeaturesAndDevice) {
  const bool units = CoopMatKernelsCompiled() && gpu().device().caps().HasCoopMatF16();
  const AttentionShape s{0, 8, 1, 256, 64, 0, 1.f};
  GpuTest::Run([&](OpContext& ctx) {
    ctx.kernels = KernelFamily::kGpu;
    EXPECT_EQ(PlanAttentionPrefillFor(ctx, s, 64, 2, true).coopmat, units);
    EXPECT_TRUE(PlanAttentionPrefillFor(ctx, s, 64, 2, true).gpu_kernel);
    ctx.features.emulate_cooperative_matrix = true;
    const AttentionPrefillPlan emu = PlanAttentionPrefillFor(ctx, s, 64, 2, true);
    EXPECT_TRUE(emu.coopmat);
    EXPECT_EQ(emu.lanes, kCoopMatEmulatedLanes);
    EXPECT_EQ(emu.workgroup, kAttentionCoopMatSubgroups * kCoopMatEmulatedLanes);
    AttentionShape odd = s;
    odd.head_dim = 36;  // no unit (16 or 8 wide) tiles it: the other prefill kernels keep it
    EXPECT_FALSE(PlanAttentionPrefillFor(ctx, odd, 64, 2, true).coopmat);
    ctx.features.cooperative_matrix = FeatureUse::kOff;  // off wins over the tests' emulation
    EXPECT_FALSE(PlanAttentionPrefillFor(ctx, s, 64, 2, true).coopmat);
    ctx.features.cooperative_matrix = FeatureUse::kForce;
    ctx.kernels = KernelFamily::kCpu;
    EXPECT_FALSE(PlanAttentionPrefillFor(ctx, s, 64, 2, true).coopmat);
    EXPECT_FALSE(PlanAttentionPrefillFor(ctx, s, 64, 2, true).gpu_kernel);
  });
}

}  // namespace
}  // namespace vkg::test
