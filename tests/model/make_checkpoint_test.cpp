// vkg_make_checkpoint: command-line behaviour (help, bad usage), determinism by seed, and that
// what it writes is exactly the tensor list the config implies (same layout as the HF fixtures).
#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "host/model/checkpoint.h"
#include "host/model/tensor_names.h"
#include "tests/model/test_helpers.h"

namespace vkg {
namespace {

namespace fs = std::filesystem;

TEST(MakeCheckpointTest, HelpAndBadUsage) {
  test::TempDir dir("cli");
  const fs::path out = dir.path() / "out.txt", err = dir.path() / "err.txt";
  std::string redirect = ">";  // appended, not "a" + b: GCC 12 warns falsely (-Wrestrict) on that
  redirect += out.string() + " 2>" + err.string();
  EXPECT_EQ(test::RunMakeCheckpoint("--help", redirect), 0);
  EXPECT_EQ(test::ReadFile(out).rfind("usage: vkg_make_checkpoint", 0), 0u);
  EXPECT_EQ(test::RunMakeCheckpoint("--out x --frobnicate", redirect), 2);
  EXPECT_EQ(test::ReadFile(err).rfind("vkg_make_checkpoint: unknown option --frobnicate\nusage:", 0), 0u);
  EXPECT_EQ(test::ReadFile(out), "");
  EXPECT_EQ(test::RunMakeCheckpoint("--layers", redirect), 2);  // missing value
  EXPECT_EQ(test::RunMakeCheckpoint("--out x --hidden 6x4", redirect), 2);
  EXPECT_EQ(test::RunMakeCheckpoint("--variant dense", redirect), 2);  // no --out
  EXPECT_EQ(test::RunMakeCheckpoint("--out " + (dir.path() / "v").string() + " --variant llama", redirect), 1);
  EXPECT_EQ(test::ReadFile(err), "error: unknown variant \"llama\" (expected dense, ple, e4b, moe or unified)\n");
}

TEST(MakeCheckpointTest, RefusesToOverwriteWithoutForce) {
  test::TempDir dir("force");
  const std::string out = "--out " + dir.path().string();
  ASSERT_EQ(test::RunMakeCheckpoint(out), 0);
  EXPECT_EQ(test::RunMakeCheckpoint(out), 1);
  // --force with shards replaces the single file: no stale model.safetensors is left behind.
  EXPECT_EQ(test::RunMakeCheckpoint(out + " --force --shards 2"), 0);
  EXPECT_FALSE(fs::exists(dir.path() / "model.safetensors"));
  EXPECT_TRUE(fs::exists(dir.path() / "model.safetensors.index.json"));
}

TEST(MakeCheckpointTest, DeterministicBySeed) {
  test::TempDir dir("seed");
  const std::string base = "--variant moe --out " + dir.path().string();
  ASSERT_EQ(test::RunMakeCheckpoint(base + "/a --seed 5"), 0);
  ASSERT_EQ(test::RunMakeCheckpoint(base + "/b --seed 5"), 0);
  ASSERT_EQ(test::RunMakeCheckpoint(base + "/c --seed 6"), 0);
  const std::string a = test::ReadFile(dir.path() / "a/model.safetensors");
  EXPECT_EQ(a, test::ReadFile(dir.path() / "b/model.safetensors"));
  EXPECT_NE(a, test::ReadFile(dir.path() / "c/model.safetensors"));
}

// Generated files hold exactly the tensors ForEachTensor lists, with the released names, and for
// the fixture-sized defaults the same names, shapes and config.json as the HF-made fixtures.
TEST(MakeCheckpointTest, SameLayoutAsTheFixtures) {
  test::TempDir dir("layout");
  for (const char* v : {"dense", "ple", "e4b", "moe"}) {
    const fs::path out = dir.path() / v;
    ASSERT_EQ(test::RunMakeCheckpoint("--out " + out.string() + " --variant " + v), 0);
    EXPECT_EQ(nlohmann::json::parse(test::ReadFile(out / "config.json")),
              nlohmann::json::parse(test::ReadFile(test::FixtureDir(v) / "config.json")))
        << v;
    const Checkpoint gen = Checkpoint::Load(out);
    const Checkpoint fix = Checkpoint::Load(test::FixtureDir(v));
    std::set<std::string> listed;
    ForEachTensor(gen.config(), [&](const TensorSpec& s) { listed.insert(s.name); });
    std::set<std::string> in_gen, in_fix;
    for (const auto& [name, t] : gen.weights().all()) {
      in_gen.insert(name);
      EXPECT_EQ(t->file_name, "model.language_model." + name);
      EXPECT_EQ(t->dtype, DType::BF16);
      const TensorInfo* f = fix.weights().Find(name);
      ASSERT_NE(f, nullptr) << v << " " << name;
      EXPECT_EQ(t->shape, f->shape) << v << " " << name;
    }
    for (const auto& [name, t] : fix.weights().all()) in_fix.insert(name);
    EXPECT_EQ(in_gen, listed) << v;
    EXPECT_EQ(in_fix, listed) << v;
  }
}

// --dtype writes every tensor in f16 or f32, --dtype-of some of them: the same seeded values, rounded
// to each dtype (bf16 files are what they were before the option existed).
TEST(MakeCheckpointTest, DtypesAndMixedCheckpoints) {
  test::TempDir dir("dtype");
  const std::string base = "--variant e4b --seed 4 --out " + dir.path().string();
  ASSERT_EQ(test::RunMakeCheckpoint(base + "/bf16"), 0);
  ASSERT_EQ(test::RunMakeCheckpoint(base + "/f16 --dtype f16"), 0);
  ASSERT_EQ(test::RunMakeCheckpoint(base + "/f32 --dtype f32"), 0);
  ASSERT_EQ(test::RunMakeCheckpoint(base + "/mixed --dtype-of norm=f32 --dtype-of mlp.=f16"), 0);
  const Checkpoint bf16 = Checkpoint::Load(dir.path() / "bf16"), f16 = Checkpoint::Load(dir.path() / "f16"),
                   f32 = Checkpoint::Load(dir.path() / "f32"), mixed = Checkpoint::Load(dir.path() / "mixed");
  EXPECT_EQ(nlohmann::json::parse(test::ReadFile(dir.path() / "f16/config.json"))["dtype"], "float16");
  EXPECT_EQ(nlohmann::json::parse(test::ReadFile(dir.path() / "f32/config.json"))["text_config"]["dtype"], "float32");
  size_t finer_than_bf16 = 0, values = 0;
  for (const auto& [name, t32] : f32.weights().all()) {
    EXPECT_EQ(t32->dtype, DType::F32) << name;
    EXPECT_EQ(f16.Tensor(name).dtype, DType::F16) << name;
    const DType want = name.find("norm") != std::string::npos   ? DType::F32
                       : name.find("mlp.") != std::string::npos ? DType::F16
                                                                : DType::BF16;
    EXPECT_EQ(mixed.Tensor(name).dtype, want) << name;
    const std::vector<float> v32 = f32.Float32(name), v16 = f16.Float32(name), vb = bf16.Float32(name);
    for (size_t i = 0; i < v32.size(); ++i) {
      EXPECT_EQ(RoundTripBf16(v32[i]), vb[i]) << name << "[" << i << "]";
      EXPECT_EQ(RoundTripHalf(v32[i]), v16[i]) << name << "[" << i << "]";
      finer_than_bf16 += RoundTripBf16(v32[i]) != v32[i];
    }
    values += v32.size();
  }
  // f32 files really hold more than bf16 does (else they would test nothing about precision).
  EXPECT_GT(finer_than_bf16, values * 9 / 10);

  const fs::path out = dir.path() / "out.txt", err = dir.path() / "err.txt";
  std::string redirect = ">";
  redirect += out.string() + " 2>" + err.string();
  EXPECT_EQ(test::RunMakeCheckpoint(base + "/bad --dtype q4_0", redirect), 2);
  EXPECT_EQ(test::ReadFile(err).rfind("vkg_make_checkpoint: --dtype must be bf16, f16 or f32, got \"q4_0\"\n", 0), 0u);
  EXPECT_EQ(test::RunMakeCheckpoint(base + "/bad --dtype-of norm", redirect), 2);
  EXPECT_EQ(test::RunMakeCheckpoint(base + "/bad --dtype-of =f32", redirect), 2);
}

TEST(MakeCheckpointTest, UnifiedConfigHasNoPleOrMoeFields) {
  test::TempDir dir("unified");
  ASSERT_EQ(test::RunMakeCheckpoint("--out " + dir.path().string() + " --variant unified"), 0);
  const auto doc = nlohmann::json::parse(test::ReadFile(dir.path() / "config.json"));
  EXPECT_EQ(doc["model_type"], "gemma4_unified");
  EXPECT_FALSE(doc["text_config"].contains("hidden_size_per_layer_input"));
  EXPECT_FALSE(doc["text_config"].contains("enable_moe_block"));
  const Checkpoint c = Checkpoint::Load(dir.path());
  EXPECT_FALSE(c.config().has_ple());  // gemma4 would default to PLE 256 here
  EXPECT_EQ(c.weights().Find("embed_tokens_per_layer.weight"), nullptr);
}

}  // namespace
}  // namespace vkg
