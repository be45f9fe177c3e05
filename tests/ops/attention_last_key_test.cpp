// Attention with per-query last keys (AttentionShape::last_key) against ref::Attention: the vision
// tower's bidirectional attention over an image's patches (every query sees every key), and Gemma 4's
// "vision" rule on a sliding layer's ring cache (image tokens see their whole image, text causal), in
// both kernel families (the row kernel runs either way).
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "host/ops/attention.h"
#include "host/reference/ref_ops.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

struct LastKeyCase {
  std::string name;
  uint32_t T, start_pos, n_heads, n_kv_heads, head_dim, cache_len, window;
  DType kv;
  std::vector<std::pair<uint32_t, uint32_t>> spans;  // image runs [first, first + n) as token indices; all: {0, T}
  KernelFamily family = KernelFamily::kDevice;
};
std::ostream& operator<<(std::ostream& os, const LastKeyCase& c) { return os << c.name; }

class AttentionLastKeyTest : public GpuTest, public ::testing::WithParamInterface<LastKeyCase> {};

TEST_P(AttentionLastKeyTest, MatchesReference) {
  const LastKeyCase& c = GetParam();
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
  Run([&](OpContext& ctx) {
    ctx.kernels = c.family;
    Attention(ctx, tq, tk, tv, tout, shape);
  });
  ExpectClose(ref, Download(tout), 1e-9, c.name.c_str());
}

const auto F16 = DType::F16;
const auto F32 = DType::F32;
LastKeyCase Gpu(LastKeyCase c) {
  c.name += "_gpu_family";
  c.family = KernelFamily::kGpu;
  return c;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, AttentionLastKeyTest,
    ::testing::Values(
        // The vision tower: 54 patches, 2 heads of 16 (the fixtures' tower), f32 keys, all see all.
        LastKeyCase{"tower_54_patches_d16", 54, 0, 2, 2, 16, 54, 0, F32, {{0, 54}}},
        Gpu(LastKeyCase{"tower_54_patches_d16", 54, 0, 2, 2, 16, 54, 0, F32, {{0, 54}}}),
        LastKeyCase{"tower_81_patches_d64_12h", 81, 0, 12, 12, 64, 81, 0, F32, {{0, 81}}},
        // A sliding layer (window 8) on a ring, two images in the chunk, text before, between, after.
        LastKeyCase{"sliding_w8_two_images_ring", 40, 13, 4, 2, 16, 47, 8, F16, {{3, 12}, {18, 15}}},
        Gpu(LastKeyCase{"sliding_w8_two_images_ring", 40, 13, 4, 2, 16, 47, 8, F16, {{3, 12}, {18, 15}}}),
        // A full layer told about an image (the forward never does; the op must still be exact).
        LastKeyCase{"full_one_image", 30, 5, 4, 1, 32, 35, 0, F16, {{4, 20}}}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace vkg::test
