// GGUF files on the Vulkan device (vkg_make_checkpoint --gguf): an F32 / BF16 file gives exactly
// the logits of the safetensors checkpoint it was made from (same values, same compute format,
// same kernels), and a q8_0 / q4_0 file runs in its own format and matches the CPU reference fed
// the same (dequantized) weights.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "host/device/gpu_model.h"
#include "host/device/weight_source.h"
#include "host/formats/dtype.h"
#include "host/model/checkpoint.h"
#include "host/runtime/engine.h"
#include "tests/model/test_helpers.h"

namespace vkg::test {
namespace {

struct Diff {
  double max_abs = 0;
  int argmax_mismatches = 0;
};

Diff Compare(const std::vector<float>& a, const std::vector<float>& b, size_t V) {
  Diff d;
  EXPECT_EQ(a.size(), b.size());
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    d.max_abs = std::max(d.max_abs, std::isfinite(b[i]) ? std::fabs(double(a[i]) - b[i]) : INFINITY);
  }
  for (size_t p = 0; (p + 1) * V <= std::min(a.size(), b.size()); ++p) {
    const auto x = a.begin() + std::ptrdiff_t(p * V), y = b.begin() + std::ptrdiff_t(p * V);
    d.argmax_mismatches +=
        std::max_element(x, x + std::ptrdiff_t(V)) - x != std::max_element(y, y + std::ptrdiff_t(V)) - y;
  }
  return d;
}

std::unique_ptr<Engine> Open(const std::filesystem::path& path, std::optional<DType> weights, bool cpu = false,
                             KernelFamily kernels = KernelFamily::kDevice) {
  EngineOptions o;
  o.kernels = kernels;
  o.weights = weights;
  o.kv_dtype = DType::F32;  // exactness first, as `vkgemma logits` does
  o.batch = 64;
  o.context = 128;
  if (cpu) o.device = "cpu";
  return Engine::Open(path.string(), o);
}

class GgufGpuTest : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {};

// Both uploads see the same values in the same format, so the device computes the same numbers:
// exact equality is expected (and the default format of each file is its own).
TEST_P(GgufGpuTest, FloatFileGivesTheCheckpointsLogitsExactly) {
  const auto [variant, type] = GetParam();
  TempDir dir(std::string("gguf_gpu_") + variant);
  const auto ckpt = dir.path() / "ckpt", gguf = dir.path() / "m.gguf";
  ASSERT_EQ(RunMakeCheckpoint("--out " + ckpt.string() + " --variant " + variant + " --seed 4 --gguf " + gguf.string() +
                              " --gguf-type " + type),
            0);
  const DType format = std::string(type) == "bf16" ? DType::BF16 : DType::F32;
  auto a = Open(ckpt, format), b = Open(gguf, std::nullopt);
  EXPECT_EQ(b->weights_format(), format);
  const std::vector<int32_t> tokens = RandomPrompt(20, a->config().vocab_size, 3);
  const Diff d = Compare(a->Forward(tokens, true), b->Forward(tokens, true), size_t(a->config().vocab_size));
  EXPECT_EQ(d.max_abs, 0.0);
  EXPECT_EQ(a->validation_messages() + b->validation_messages(), 0);
}

INSTANTIATE_TEST_SUITE_P(Variants, GgufGpuTest,
                         ::testing::Combine(::testing::Values("dense", "ple", "e4b", "moe"),
                                            ::testing::Values("f32", "bf16")),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param)) + "_" + std::get<1>(info.param);
                         });

class GgufQuantGpuTest : public ::testing::TestWithParam<std::tuple<const char*, DType>> {};

// q8_0 / q4_0 files: the device holds the file's blocks (re-encoded exactly, see
// gguf_checkpoint_test) and the reference computes from the same values dequantized, so only
// accumulation order differs. Tolerance: 1e-3 absolute and no argmax change, the f32 gate of
// DefaultWeightsTest (same values on both sides); measured 1.0e-5 to 2.1e-5 on lavapipe (dense,
// ple, moe; q8_0 and q4_0); a wrong nibble or scale moves logits by O(1).
TEST_P(GgufQuantGpuTest, QuantizedFileMatchesTheReferenceOnItsDequantizedWeights) {
  const auto [variant, format] = GetParam();
  TempDir dir(std::string("gguf_q_") + variant);
  const auto gguf = dir.path() / "m.gguf";
  ASSERT_EQ(RunMakeCheckpoint("--out " + (dir.path() / "ckpt").string() + " --variant " + variant +
                              " --seed 4 --ple-dim 32 --gguf " + gguf.string() + " --gguf-type " +
                              std::string(DTypeName(format))),
            0);
  auto cpu = Open(gguf, std::nullopt, /*cpu=*/true), gpu = Open(gguf, std::nullopt);
  EXPECT_EQ(gpu->weights_format(), format);  // --ple-dim 32: every row whole blocks, nothing left in F32
  const std::vector<int32_t> tokens = RandomPrompt(24, cpu->config().vocab_size, 3);
  const Diff d = Compare(cpu->Forward(tokens, true), gpu->Forward(tokens, true), size_t(cpu->config().vocab_size));
  std::printf("[ measured ] %s %s gguf: max abs %.3g\n", variant, std::string(DTypeName(format)).c_str(), d.max_abs);
  EXPECT_LE(d.max_abs, 1e-3);
  EXPECT_EQ(d.argmax_mismatches, 0);
  EXPECT_EQ(gpu->validation_messages(), 0);
}

INSTANTIATE_TEST_SUITE_P(Formats, GgufQuantGpuTest,
                         ::testing::Values(std::tuple{"dense", DType::Q8_0}, std::tuple{"dense", DType::Q4_0},
                                           std::tuple{"ple", DType::Q8_0}, std::tuple{"ple", DType::Q4_0},
                                           std::tuple{"moe", DType::Q4_0}),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param)) + "_" +
                                  std::string(DTypeName(std::get<1>(info.param)));
                         });

// K-quant files as llama.cpp's Q4_K_M / Q5_K_M / Q6_K mix them (the generator's --gguf-type
// q4_k_m: Q4_K matrices, Q6_K embedding / attn_v / ffn_down of even layers, F32 norms; rows of
// 256-multiples, so nothing falls back), every matrix uploaded in its own stored type without
// re-quantization, against the CPU reference on the same dequantized values: only the kernels'
// f32 accumulation order differs, so GgufQuantGpuTest's gate holds (1e-3 absolute, argmax equal;
// a wrong sub-block scale, min or high bit moves logits by O(1)). Both kernel families.
struct KQuantFile {
  const char* variant;
  const char* type;     // --gguf-type
  const char* formats;  // what the GPU computes from
  KernelFamily kernels = KernelFamily::kDevice;
};

class GgufKQuantGpuTest : public ::testing::TestWithParam<KQuantFile> {};

TEST_P(GgufKQuantGpuTest, MixedFileMatchesTheReferenceOnItsDequantizedWeights) {
  const KQuantFile k = GetParam();
  TempDir dir(std::string("gguf_k_") + k.variant + "_" + k.type);
  const auto gguf = dir.path() / "m.gguf";
  ASSERT_EQ(RunMakeCheckpoint("--out " + (dir.path() / "ckpt").string() + " --variant " + k.variant +
                              " --seed 4 --hidden 256 --intermediate 512 --heads 4 --head-dim 64 "
                              "--global-head-dim 128 --ple-dim 256 --moe-intermediate 256 --vocab 512 --gguf " +
                              gguf.string() + " --gguf-type " + k.type),
            0);
  auto cpu = Open(gguf, std::nullopt, /*cpu=*/true), gpu = Open(gguf, std::nullopt, false, k.kernels);
  EXPECT_EQ(gpu->weights_formats(), k.formats);
  const std::vector<int32_t> tokens = RandomPrompt(24, cpu->config().vocab_size, 3);
  const Diff d = Compare(cpu->Forward(tokens, true), gpu->Forward(tokens, true), size_t(cpu->config().vocab_size));
  std::printf("[ measured ] %s %s gguf (%s): max abs %.3g\n", k.variant, k.type, gpu->weights_formats().c_str(),
              d.max_abs);
  EXPECT_LE(d.max_abs, 1e-3);
  EXPECT_EQ(d.argmax_mismatches, 0);
  EXPECT_EQ(gpu->validation_messages(), 0);
  // The estimate `info` and the too-big check use keeps each matrix's type as the upload did: the
  // same types, and the same bytes up to the allocator's per-matrix alignment.
  const Checkpoint ckpt = Checkpoint::Load(gguf.string());
  const std::unique_ptr<WeightSource> src = CheckpointWeights(ckpt);
  std::set<DType> types;
  const uint64_t estimate = GpuModel::EstimateBytes(
      ckpt.config(), ckpt.stored_format(), [&](const std::string& n) { return src->StoredType(n); }, &types);
  std::string names;
  for (DType t : types) names += (names.empty() ? "" : "+") + std::string(DTypeName(t));
  EXPECT_EQ(names, k.formats);
  EXPECT_GE(gpu->memory().weights, estimate);
  EXPECT_LE(gpu->memory().weights, estimate + estimate / 20);
}

// Stacks whose parts differ in type (attn_q/attn_k Q4_K with attn_v Q6_K on even layers) keep each
// part's type (WeightMatrix::parts): no "f32" for them. "f32" in the list: the per-layer model
// projection (a scale folded into its rows) takes the file's compute format, f32, which holds its
// dequantized values exactly.
INSTANTIATE_TEST_SUITE_P(
    Files, GgufKQuantGpuTest,
    ::testing::Values(KQuantFile{"dense", "q4_k_m", "q4_k+q6_k"}, KQuantFile{"ple", "q4_k_m", "f32+q4_k+q6_k"},
                      KQuantFile{"moe", "q5_k_m", "q5_k+q6_k"}, KQuantFile{"dense", "q6_k", "q6_k"},
                      KQuantFile{"dense", "q4_k_m", "q4_k+q6_k", KernelFamily::kGpu},
                      KQuantFile{"ple", "q5_k", "f32+q5_k", KernelFamily::kGpu},
                      // ggml's other block formats (host/formats/ggml_small_blocks.h), one small model each,
                      // both kernel families between them.
                      KQuantFile{"dense", "q4_1", "q4_1"}, KQuantFile{"ple", "q5_0", "f32+q5_0", KernelFamily::kGpu},
                      KQuantFile{"moe", "q5_1", "q5_1"}, KQuantFile{"dense", "q2_k", "q2_k", KernelFamily::kGpu},
                      KQuantFile{"ple", "q3_k", "f32+q3_k"}),
    [](const auto& info) {
      return std::string(info.param.variant) + "_" + info.param.type +
             (info.param.kernels == KernelFamily::kGpu ? "_gpu_family" : "");
    });

}  // namespace
}  // namespace vkg::test
