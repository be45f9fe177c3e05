// The vision tower on the Vulkan device against Hugging Face's soft tokens (tests/data/gemma4-mm):
// float32 compute on the checkpoints' bf16 weights within 1e-4, in both kernel families, and equal
// to the CPU reference tower.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "host/device/weight_source.h"
#include "host/model/checkpoint.h"
#include "host/reference/vision_tower.h"
#include "host/runtime/engine.h"
#include "host/runtime/vision_tower_gpu.h"
#include "tests/mm_fixture.h"
#include "tests/model/test_helpers.h"
#include "tests/run_vkgemma.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

struct TowerCase {
  const char* fixture;
  KernelFamily family;
};

class VisionTowerGpuTest : public GpuTest, public ::testing::WithParamInterface<TowerCase> {};

TEST_P(VisionTowerGpuTest, SoftTokensMatchHuggingFace) {
  const MmFixture f = LoadMmFixture(GetParam().fixture);
  const Checkpoint ckpt = Checkpoint::Load(f.dir);
  const auto source = CheckpointWeights(ckpt);
  GpuVisionTower tower(*source, gpu(), ckpt.stored_format());
  const ref::VisionTower cpu(ckpt.config(), ref::VisionWeights::Load(ckpt));
  std::vector<float> soft, ref_soft;
  for (const ImagePatches& im : f.images) {
    const std::vector<float> s = tower.Encode(im, GetParam().family);
    soft.insert(soft.end(), s.begin(), s.end());
    const std::vector<float> r = cpu.Encode(im);
    ref_soft.insert(ref_soft.end(), r.begin(), r.end());
  }
  ASSERT_EQ(soft.size(), f.soft_tokens.size());
  float vs_hf = 0.f, vs_ref = 0.f;
  for (size_t i = 0; i < soft.size(); ++i) {
    vs_hf = std::max(vs_hf, std::fabs(soft[i] - f.soft_tokens[i]));
    vs_ref = std::max(vs_ref, std::fabs(soft[i] - ref_soft[i]));
  }
  std::printf("[ measured ] %s: soft tokens max abs vs HF %.3g, vs the CPU reference %.3g\n", f.dir.filename().c_str(),
              vs_hf, vs_ref);
  EXPECT_LE(vs_hf, 1e-4f);
  EXPECT_LE(vs_ref, 1e-4f);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, VisionTowerGpuTest,
                         ::testing::Values(TowerCase{"ple-vision", KernelFamily::kDevice},
                                           TowerCase{"dense-vision-bidir-2img", KernelFamily::kDevice},
                                           TowerCase{"ple-vision", KernelFamily::kGpu}),
                         [](const auto& info) {
                           std::string n = info.param.fixture;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n + (info.param.family == KernelFamily::kGpu ? "_gpu_family" : "");
                         });

// The whole prompt on the device: the tower, the soft tokens over the image rows, the image prefilled
// with the text (chunks of 64 on lavapipe: ple-vision's image straddles two chunks, causal;
// the bidirectional fixtures' chunks end before each image so that it sits whole in one), its rows
// seeing the whole image on sliding layers. HF's logits within 1e-3 at every position.
class VisionEngineGpuTest : public ::testing::TestWithParam<TowerCase> {};

TEST_P(VisionEngineGpuTest, LogitsMatchHuggingFace) {
  const MmFixture f = LoadMmFixture(GetParam().fixture);
  EngineOptions o;
  o.kv_dtype = DType::F32;
  o.validation = true;
  o.kernels = GetParam().family;
  auto engine = Engine::Open(f.dir.string(), o);
  const std::vector<float> logits = engine->ForwardWithImages(f.tokens, true, f.images);
  ASSERT_EQ(logits.size(), f.logits.size());
  const size_t V = size_t(f.vocab);
  float worst = 0.f;
  for (size_t t = 0; t < f.tokens.size(); ++t) {
    float row = 0.f;
    for (size_t i = 0; i < V; ++i) row = std::max(row, std::fabs(logits[t * V + i] - f.logits[t * V + i]));
    EXPECT_LE(row, 1e-3f) << "position " << t << " (token " << f.tokens[t] << ")";
    worst = std::max(worst, row);
  }
  std::printf("[ measured ] %s on %s: logits max abs vs HF %.3g\n", f.dir.filename().c_str(),
              engine->device_name().c_str(), worst);
  EXPECT_EQ(engine->validation_messages(), 0);
  // A text token after the image: the cache holds the image's keys (decode continues from them).
  EXPECT_EQ(engine->n_past(), f.tokens.size());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, VisionEngineGpuTest,
                         ::testing::Values(TowerCase{"ple-vision", KernelFamily::kDevice},
                                           TowerCase{"dense-vision-bidir", KernelFamily::kDevice},
                                           TowerCase{"dense-vision-bidir-2img", KernelFamily::kGpu}),
                         [](const auto& info) {
                           std::string n = info.param.fixture;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n + (info.param.family == KernelFamily::kGpu ? "_gpu_family" : "");
                         });

// One-line errors: a bidirectional image longer than the prompt chunk, a model without a tower,
// runs and images that disagree.
TEST(VisionEngineErrorsTest, RefusesWhatItCannotEvaluate) {
  const MmFixture f = LoadMmFixture("dense-vision-bidir");
  auto expect_error = [](const std::function<void()>& body, const std::string& message) {
    try {
      body();
      ADD_FAILURE() << "no error, expected: " << message;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), message);
    }
  };
  EngineOptions o;
  o.batch = 32;
  auto small = Engine::Open(f.dir.string(), o);
  expect_error([&] { small->ForwardWithImages(f.tokens, false, f.images); },
               "an image of 60 soft tokens needs --batch 60 or more: its tokens attend to each other, so it is "
               "evaluated in one chunk");
  auto text_only = Engine::Open(FixtureDir("dense").string(), EngineOptions{});
  expect_error([&] { text_only->ForwardWithImages(f.tokens, false, f.images); },
               "this model has no vision tower (its config.json has no vision_config): it cannot take images");
  auto engine = Engine::Open(f.dir.string(), EngineOptions{});
  std::vector<int32_t> shorter(f.tokens);
  shorter.erase(shorter.begin() + 10);  // one image token fewer
  expect_error([&] { engine->ForwardWithImages(shorter, false, f.images); },
               "image 1 makes 60 soft tokens but its run in the prompt has 59 image tokens");
  expect_error(
      [&] {
        engine->ForwardWithImages(f.tokens, false, {f.images[0], f.images[0]});
      },
      "the prompt has 1 image-token run but 2 images were given");
  // Nothing was evaluated by the refused calls: the engine still runs the prompt.
  EXPECT_EQ(engine->n_past(), 0u);
  EXPECT_EQ(engine->ForwardWithImages(f.tokens, true, f.images).size(), f.logits.size());
}

// End to end from the image file: `vkgemma logits --image image.png` (decoding and HF's
// preprocessing by host/image, the tower, the merge) on the device and on the CPU reference, HF's
// logits within 1e-3 at every position, for the bidirectional fixture.
TEST(VisionLogitsCommandTest, ImageFileMatchesHuggingFace) {
  const MmFixture f = LoadMmFixture("dense-vision-bidir");
  TempDir dir("vision_logits");
  std::string tokens;
  for (int32_t t : f.tokens) tokens += (tokens.empty() ? "" : ",") + std::to_string(t);
  for (const char* device : {"", " --device cpu"}) {
    const std::filesystem::path out = dir.path() / "logits.f32";
    const CommandOutput r = RunVkgemma("logits -m " + f.dir.string() + " --tokens " + tokens + " --image " +
                                       (f.dir / "image.png").string() + " --out " + out.string() + device);
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_EQ(r.err.find("validation"), std::string::npos) << r.err;
    const std::vector<float> got = ReadF32(out);
    ASSERT_EQ(got.size(), f.logits.size()) << device;
    float worst = 0.f;
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - f.logits[i]));
    std::printf("[ measured ] vkgemma logits --image%s: max abs vs HF %.3g\n", device, worst);
    EXPECT_LE(worst, 1e-3f) << device;
  }
}

}  // namespace
}  // namespace vkg::test
