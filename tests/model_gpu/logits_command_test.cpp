// `vkgemma logits` with default options, as outside checks run it: on f16 and f32 checkpoints the
// Vulkan device computes from the checkpoint's own values, says so when it loads, and its logits
// at every position stay within the f32 tolerance of `--device cpu` (the CPU reference).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/model/test_helpers.h"
#include "tests/run_vkgemma.h"

namespace vkg::test {
namespace {

std::vector<float> ReadFloats(const std::filesystem::path& p) {
  const std::string raw = ReadFile(p);
  std::vector<float> v(raw.size() / 4);
  std::memcpy(v.data(), raw.data(), v.size() * 4);
  return v;
}

class LogitsCommandTest : public ::testing::TestWithParam<std::string> {};

TEST_P(LogitsCommandTest, DefaultWeightsAreTheCheckpointsOwnAndMatchTheReference) {
  const std::string dtype = GetParam();
  TempDir dir("logits_" + dtype);
  const std::filesystem::path model = dir.path() / "model";
  ASSERT_EQ(RunMakeCheckpoint("--out " + model.string() + " --variant e4b --seed 9 --dtype " + dtype), 0);
  const std::string tokens = "2,17,5,33,100,7,9,200,3,4,5,6,77,12,44,45,46,47,48,49,250,1,0,128";
  const std::string base = "logits -m " + model.string() + " --tokens " + tokens + " --out ";

  const CommandOutput gpu = RunVkgemma(base + (dir.path() / "gpu.f32").string());
  ASSERT_EQ(gpu.rc, 0) << gpu.err;
  EXPECT_NE(gpu.err.find("(" + dtype + ", the checkpoint's own)"), std::string::npos) << gpu.err;
  EXPECT_EQ(gpu.err.find("validation"), std::string::npos) << gpu.err;
  const CommandOutput cpu = RunVkgemma(base + (dir.path() / "cpu.f32").string() + " --device cpu");
  ASSERT_EQ(cpu.rc, 0) << cpu.err;

  const std::vector<float> g = ReadFloats(dir.path() / "gpu.f32"), c = ReadFloats(dir.path() / "cpu.f32");
  ASSERT_EQ(g.size(), 24u * 256u);
  ASSERT_EQ(c.size(), g.size());
  double max_abs = 0;
  for (size_t i = 0; i < g.size(); ++i) max_abs = std::max(max_abs, std::fabs(double(g[i]) - c[i]));
  std::printf("[ measured ] vkgemma logits, %s checkpoint, default options: max abs %.3g\n", dtype.c_str(), max_abs);
  EXPECT_LE(max_abs, 1e-3);  // the f32 tolerance of the GPU-vs-reference tests
  // The printed top 5: the same ids in the same order.
  const auto ids = [](const std::string& line) {
    std::vector<int> out;
    for (const auto& pair : nlohmann::json::parse(line)["top"]) out.push_back(pair[0].get<int>());
    return out;
  };
  EXPECT_EQ(ids(gpu.out), ids(cpu.out)) << gpu.out << cpu.out;
}

INSTANTIATE_TEST_SUITE_P(SourceDtypes, LogitsCommandTest, ::testing::Values("f16", "f32"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vkg::test
