// Checkpoint::stored_format(): the format a checkpoint's linear weights are stored in, which is
// the default compute format (bf16 stays bf16, f16 f16, f32 f32; a mix takes f32).
#include <gtest/gtest.h>

#include "host/model/checkpoint.h"
#include "host/model/tensor_names.h"
#include "tests/model/test_helpers.h"

namespace vkg {
namespace {

struct Case {
  const char* flags;  // vkg_make_checkpoint flags
  DType want;
  const char* why;
};

TEST(StoredFormat, OwnDtypeOrTheWidestOfAMix) {
  test::TempDir dir("stored");
  const Case cases[] = {
      {"", DType::BF16, "released layout"},
      {"--dtype f16", DType::F16, "all f16"},
      {"--dtype f32", DType::F32, "all f32"},
      {"--dtype-of norm=f32", DType::BF16, "norms are not linear weights"},
      {"--dtype f16 --dtype-of layer_scalar=f32 --dtype-of embed_tokens_per_layer=f32", DType::F16,
       "scalars and the host-side per-layer table do not count"},
      {"--dtype-of embed_tokens.weight=f32", DType::F32, "an f32 embedding among bf16 layers"},
      {"--dtype f16 --dtype-of down_proj=f32", DType::F32, "f32 is wider than f16"},
      {"--dtype f16 --dtype-of q_proj=bf16", DType::F32, "bf16 and f16 do not hold each other: f32 holds both"},
  };
  int n = 0;
  for (const Case& c : cases) {
    const std::filesystem::path out = dir.path() / std::to_string(n++);
    ASSERT_EQ(test::RunMakeCheckpoint("--variant e4b --out " + out.string() + " " + c.flags), 0) << c.flags;
    EXPECT_EQ(Checkpoint::Load(out).stored_format(), c.want) << c.flags << ": " << c.why;
  }
  // MoE: the router stays f32 on the device whatever the format, so its dtype does not count.
  const std::filesystem::path moe = dir.path() / "moe";
  ASSERT_EQ(test::RunMakeCheckpoint("--variant moe --out " + moe.string() + " --dtype-of router.proj=f32"), 0);
  EXPECT_EQ(Checkpoint::Load(moe).stored_format(), DType::BF16);
}

TEST(StoredFormat, InComputeFormatListsTheLinearWeights) {
  ModelConfig c = Checkpoint::LoadConfigOf(test::FixtureDir("moe"));
  int matrices = 0;
  ForEachTensor(c, [&](const TensorSpec& s) {
    const bool want = (s.role == TensorRole::kMatrix || s.role == TensorRole::kEmbedding) &&
                      s.name.find("router") == std::string::npos && s.name != "embed_tokens_per_layer.weight";
    EXPECT_EQ(InComputeFormat(s), want) << s.name;
    matrices += want;
  });
  EXPECT_GT(matrices, 10);
}

}  // namespace
}  // namespace vkg
