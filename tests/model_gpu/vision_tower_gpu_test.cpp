// The vision tower on the Vulkan device against Hugging Face's soft tokens (tests/data/gemma4-mm):
// float32 compute on the checkpoints' bf16 weights within 1e-4, in both kernel families, and equal
// to the CPU reference tower.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "host/device/weight_source.h"
#include "host/model/checkpoint.h"
#include "host/reference/vision_tower.h"
#include "host/runtime/vision_tower_gpu.h"
#include "tests/mm_fixture.h"
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

}  // namespace
}  // namespace vkg::test
