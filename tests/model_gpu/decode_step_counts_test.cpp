// Dependent dispatches and pipeline barriers of the GPU family's replayed decode step at the
// layer structure of the built-in shapes (E2B: 35 layers, 28 sliding + 7 full, 20 reading another
// layer's KV, per-layer embeddings, double-wide MLPs; 31B: 60 layers, 5 sliding + 1 full), pinned
// as the launch geometry is (issue 23: at most 8 dependent dispatches per layer, E2B at most 290
// per token). The widths are shrunk (hidden 256, MLP 256, vocabulary 512) so that the model builds
// in a second on lavapipe: a count depends on the layers, their kinds and the kernels chosen, not on
// the widths, except where a matrix outgrows one storage binding (lavapipe: 128 MiB) and takes a
// dispatch per chunk: E2B's real 262144 x 1536 q4_0 head is two chunks there, one on GPUs.
// Float products and integer-dot ones (forced: lavapipe has the feature without acceleration).
// A long sweep (ctest label "long"; 1-8 minutes a case on a loaded 2-core lavapipe): CI runs E2B
// on the integer-dot path, which exercises every fold; the tiny checkpoints' counts are pinned on
// every run by IntegerDotModelTest.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

#include "host/model/shapes.h"
#include "host/runtime/engine.h"
#include "tests/sweep.h"

namespace vkg::test {
namespace {

struct Case {
  const char* shape;
  bool int8;
  uint32_t dispatches, barriers;
};

class DecodeStepCountsTest : public ::testing::TestWithParam<Case> {};

TEST_P(DecodeStepCountsTest, Pinned) {
  const Case c = GetParam();
  VKG_SWEEP_SAMPLE(std::strcmp(c.shape, "e2b") == 0 && c.int8);
  if (c.int8 && !VKG_SHADERS_INTEGER_DOT) GTEST_SKIP() << "the shader compiler lacks GL_EXT_integer_dot_product";
  ModelConfig config = ShapeConfig(c.shape);
  config.hidden_size = 256;
  config.intermediate_size = 256;
  config.vocab_size = 512;
  if (config.vocab_size_per_layer_input > 0) config.vocab_size_per_layer_input = 512;
  config.Finish(std::string("shrunk shape ") + c.shape);
  EngineOptions o;
  o.weights = DType::Q4_0;
  o.batch = 8;
  o.context = 1024;
  o.kernels = KernelFamily::kGpu;
  o.features.integer_dot = c.int8 ? FeatureUse::kForce : FeatureUse::kOff;
  std::unique_ptr<Engine> e;
  try {
    e = Engine::OpenSynthetic(config, o, 7);
  } catch (const std::exception& ex) {
    if (c.int8) GTEST_SKIP() << "no integer-dot products on this device: " << ex.what();
    throw;
  }
  const int32_t prompt[] = {2, 17, 5}, next = 9;
  e->Forward(prompt, false);
  e->Forward(std::span<const int32_t>(&next, 1), false);
  const Engine::StepCounts n = e->decode_step_counts();
  std::printf("[ measured ] %s %s: %u dispatches, %u barriers (%u asked) per decode token, %.2f per layer\n", c.shape,
              c.int8 ? "integer dot" : "float", n.dispatches, n.barriers, n.barriers_requested,
              double(n.dispatches) / config.num_hidden_layers);
  EXPECT_EQ(n.dispatches, c.dispatches);
  EXPECT_EQ(n.barriers, c.barriers);
  EXPECT_EQ(e->validation_messages(), 0);
}

INSTANTIATE_TEST_SUITE_P(Shapes, DecodeStepCountsTest,
                         // Measured on lavapipe (context 1024). Before the folds: E2B 427 float, about 604 integer
                         // dot; before the attention combine moved into the attention pass: 321 and 394 (31B 424, 546).
                         ::testing::Values(Case{"e2b", false, 286, 289}, Case{"e2b", true, 359, 362},
                                           Case{"31b", false, 364, 367}, Case{"31b", true, 486, 489}),
                         [](const auto& info) {
                           return std::string(info.param.shape) + (info.param.int8 ? "_int8" : "_float");
                         });

}  // namespace
}  // namespace vkg::test
