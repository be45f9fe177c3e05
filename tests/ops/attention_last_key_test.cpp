// Attention with per-query last keys (AttentionShape::last_key) against ref::Attention: the vision
// tower's bidirectional attention over an image's patches (every query sees every key), and Gemma 4's
// "vision" rule on a sliding layer's ring cache (image tokens see their whole image, text causal), on
// every prefill kernel: the row kernel (CPU family), the flash kernel (GPU family, forced here) with
// and without key splits, and the matrix-unit kernel on emulated fragments (lavapipe has no units).
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "host/ops/attention.h"
#include "host/ops/matmul_coopmat.h"
#include "host/ops/plans/attention_plan.h"
#include "host/reference/ref_ops.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

struct LastKeyCase {
  std::string name;
  uint32_t T, start_pos, n_heads, n_kv_heads, head_dim, cache_len, window;
  DType kv;
  std::vector<std::pair<uint32_t, uint32_t>> spans;  // image runs [first, first + n) as token indices; all: {0, T}
  enum Kernel { kRow, kFlash, kCoopMatEmulated, kCoopMatUnits } kernel = kRow;
  bool scratch = false;  // pass a scratch tensor: the GPU kernels must split the keys
};
std::ostream& operator<<(std::ostream& os, const LastKeyCase& c) { return os << c.name; }

class AttentionLastKeyTest : public GpuTest, public ::testing::WithParamInterface<LastKeyCase> {};

TEST_P(AttentionLastKeyTest, MatchesReference) {
  const LastKeyCase& c = GetParam();
  const bool coopmat = c.kernel == LastKeyCase::kCoopMatEmulated || c.kernel == LastKeyCase::kCoopMatUnits;
  if (c.kernel == LastKeyCase::kCoopMatUnits && !(CoopMatKernelsCompiled() && gpu().device().caps().HasCoopMatF16()))
    GTEST_SKIP() << "not run: no VK_KHR_cooperative_matrix f16 units on device '" << gpu().device().caps().name
                 << "' (or this build's glslangValidator cannot compile them); the emulated cases run instead";
  const uint32_t row = c.n_kv_heads * c.head_dim, qcols = c.n_heads * c.head_dim;
  std::vector<int32_t> last(c.T);
  for (uint32_t t = 0; t < c.T; ++t) last[t] = int32_t(c.start_pos + t);
  for (const auto& [first, n] : c.spans) {
    for (uint32_t t = first; t < first + n; ++t) last[t] = int32_t(c.start_pos + first + n - 1);
  }
  std::vector<float> k = RandomVector(size_t(c.cache_len) * row, 11), v = RandomVector(size_t(c.cache_len) * row, 12);
  if (c.kv == DType::F16) {
    for (float& x : k) x = RoundTripHalf(x);
    for (float& x : v) x = RoundTripHalf(x);
  }
  const std::vector<float> q = RandomVector(size_t(c.T) * qcols, 13);
  std::vector<float> ref(q.size());
  ref::Attention(q.data(), k.data(), v.data(), ref.data(),
                 {.tokens = int(c.T),
                  .start_pos = int(c.start_pos),
                  .n_heads = int(c.n_heads),
                  .n_kv_heads = int(c.n_kv_heads),
                  .head_dim = int(c.head_dim),
                  .cache_len = int(c.cache_len),
                  .window = int(c.window),
                  .last_key = last.data()});
  const Tensor tq = NewTensor(c.T, qcols), tout = NewTensor(c.T, qcols);
  const Tensor tk = NewTensor(c.cache_len, row, c.kv), tv = NewTensor(c.cache_len, row, c.kv);
  const Tensor tlast = NewTensor(1, c.T);
  std::vector<float> bits(c.T);
  std::memcpy(bits.data(), last.data(), c.T * 4);
  Upload(tq, q);
  Upload(tk, k);
  Upload(tv, v);
  Upload(tlast, bits);
  AttentionShape shape{c.start_pos, c.n_heads, c.n_kv_heads, c.head_dim, c.cache_len, c.window, 1.f};
  shape.last_key = &tlast.slice;
  Tensor tscratch;
  if (c.scratch) tscratch = NewTensor(1, uint32_t(AttentionScratchFloats(shape, c.T)));
  Run([&](OpContext& ctx) {
    // The row kernel is the CPU family's on every device; the others are forced (GPU family).
    ctx.kernels = c.kernel == LastKeyCase::kRow ? KernelFamily::kCpu : KernelFamily::kGpu;
    ctx.features.emulate_cooperative_matrix = c.kernel == LastKeyCase::kCoopMatEmulated;
    const AttentionPrefillPlan plan = PlanAttentionPrefillFor(ctx, shape, c.T, c.kv == DType::F16 ? 2 : 4, c.scratch);
    EXPECT_EQ(plan.gpu_kernel, c.kernel != LastKeyCase::kRow) << c.name;
    EXPECT_EQ(plan.coopmat, coopmat) << c.name;
    if (c.scratch) EXPECT_GT(plan.splits, 1u) << c.name << ": meant to split the keys";
    Attention(ctx, tq, tk, tv, tout, shape, c.scratch ? &tscratch : nullptr);
  });
  const std::vector<float> got = Download(tout);
  if (!coopmat) {
    ExpectClose(ref, got, 1e-9, c.name.c_str());
    return;
  }
  // The matrix-unit kernel rounds q (and f32 K/V) and P to f16: against a reference fed the rounded
  // q, K and V only P's rounding remains (attention_coopmat_test.cpp's bounds: 1e-6, plain 5e-4).
  std::vector<float> q16 = q, k16 = k, v16 = v, ref16(q.size());
  for (auto* x : {&q16, &k16, &v16})
    for (float& f : *x) f = RoundTripHalf(f);
  ref::Attention(q16.data(), k16.data(), v16.data(), ref16.data(),
                 {.tokens = int(c.T),
                  .start_pos = int(c.start_pos),
                  .n_heads = int(c.n_heads),
                  .n_kv_heads = int(c.n_kv_heads),
                  .head_dim = int(c.head_dim),
                  .cache_len = int(c.cache_len),
                  .window = int(c.window),
                  .last_key = last.data()});
  ExpectClose(ref16, got, 1e-6, (c.name + " (f16-rounded reference)").c_str());
  ExpectClose(ref, got, 5e-4, (c.name + " (plain reference)").c_str());
}

const auto F16 = DType::F16;
const auto F32 = DType::F32;
LastKeyCase Flash(LastKeyCase c, bool scratch = false) {
  c.name += scratch ? "_flash_split" : "_flash";
  c.kernel = LastKeyCase::kFlash;
  c.scratch = scratch;
  return c;
}
LastKeyCase CoopMat(LastKeyCase c, bool scratch = false) {
  c.name += scratch ? "_coopmat_emulated_split" : "_coopmat_emulated";
  c.kernel = LastKeyCase::kCoopMatEmulated;
  c.scratch = scratch;
  return c;
}
// The device's own matrix units (reported as not run where it has none, e.g. lavapipe).
LastKeyCase Units(LastKeyCase c, bool scratch = false) {
  c.name += scratch ? "_coopmat_units_split" : "_coopmat_units";
  c.kernel = LastKeyCase::kCoopMatUnits;
  c.scratch = scratch;
  return c;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, AttentionLastKeyTest,
    ::testing::Values(
        // The vision tower: 54 patches, 2 heads of 16 (the fixtures' tower), f32 keys, all see all.
        LastKeyCase{"tower_54_patches_d16", 54, 0, 2, 2, 16, 54, 0, F32, {{0, 54}}},
        Flash(LastKeyCase{"tower_54_patches_d16", 54, 0, 2, 2, 16, 54, 0, F32, {{0, 54}}}),
        CoopMat(LastKeyCase{"tower_54_patches_d16", 54, 0, 2, 2, 16, 54, 0, F32, {{0, 54}}}),
        LastKeyCase{"tower_81_patches_d64_12h", 81, 0, 12, 12, 64, 81, 0, F32, {{0, 81}}},
        // A sliding layer (window 8) on a ring, two images in the chunk, text before, between, after.
        LastKeyCase{"sliding_w8_two_images_ring", 40, 13, 4, 2, 16, 47, 8, F16, {{3, 12}, {18, 15}}},
        Flash(LastKeyCase{"sliding_w8_two_images_ring", 40, 13, 4, 2, 16, 47, 8, F16, {{3, 12}, {18, 15}}}),
        CoopMat(LastKeyCase{"sliding_w8_two_images_ring", 40, 13, 4, 2, 16, 47, 8, F16, {{3, 12}, {18, 15}}}),
        // Key splits: a block's keys reach past its last token's position into its image.
        Flash(LastKeyCase{"sliding_w64_image_start70", 60, 70, 4, 1, 16, 123, 64, F16, {{5, 40}}}, true),
        CoopMat(LastKeyCase{"sliding_w64_image_start70", 60, 70, 4, 1, 16, 123, 64, F16, {{5, 40}}}, true),
        Units(LastKeyCase{"tower_81_patches_d64_12h", 81, 0, 12, 12, 64, 81, 0, F32, {{0, 81}}}),
        Units(LastKeyCase{"sliding_w64_image_start70", 60, 70, 4, 1, 16, 123, 64, F16, {{5, 40}}}, true),
        // A full layer told about an image (the forward never does; the op must still be exact).
        LastKeyCase{"full_one_image", 30, 5, 4, 1, 32, 35, 0, F16, {{4, 20}}},
        Flash(LastKeyCase{"full_one_image", 30, 5, 4, 1, 32, 35, 0, F16, {{4, 20}}})),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace vkg::test
