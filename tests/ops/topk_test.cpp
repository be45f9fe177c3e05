// Expert routing (top-k + softmax + per-expert scale) on the device against ref::TopKSoftmax.
#include "host/ops/topk.h"
#include "host/reference/ref_ops.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

struct Case {
  uint32_t rows, experts, k;
  bool scale;
};

class TopKTest : public GpuTest, public ::testing::WithParamInterface<Case> {};

TEST_P(TopKTest, SelectsAndWeights) {
  const Case c = GetParam();
  auto logits = RandomVector(size_t(c.rows) * c.experts, 21 + c.rows, -4.f, 4.f);
  logits[3] = logits[5];  // a tie: the lower id must win on both sides
  const auto scale = RandomVector(c.experts, 22, 0.5f, 1.5f);
  std::vector<int32_t> ref_ids(size_t(c.rows) * c.k);
  std::vector<float> ref_w(ref_ids.size());
  ref::TopKSoftmax(logits.data(), int(c.rows), int(c.experts), int(c.k), c.scale ? scale.data() : nullptr,
                   ref_ids.data(), ref_w.data());

  const Tensor tl = NewTensor(c.rows, c.experts), tw = NewTensor(c.rows, c.k);
  Tensor ts;
  Upload(tl, logits);
  if (c.scale) {
    ts = NewTensor(1, c.experts);
    Upload(ts, scale);
  }
  const vk::BufferSlice ids = alloc().Allocate(ref_ids.size() * 4);
  Run([&](OpContext& ctx) { TopKSoftmax(ctx, tl, c.k, ts, ids, tw); });
  std::vector<int32_t> got_ids(ref_ids.size());
  gpu().transfer().Download(ids, got_ids.data(), got_ids.size() * 4);
  EXPECT_EQ(got_ids, ref_ids);
  ExpectClose(ref_w, Download(tw), 1e-12, "TopKSoftmax weights");  // k exps and one sum
}

INSTANTIATE_TEST_SUITE_P(Shapes, TopKTest,
                         ::testing::Values(Case{1, 128, 8, true},    // 26B-A4B decode
                                           Case{33, 128, 8, true},   // prefill
                                           Case{5, 8, 2, false},     // tiny MoE test model
                                           Case{3, 27, 27, true}));  // k = all experts

}  // namespace
}  // namespace vkg::test
