// GGUF checkpoints (llama.cpp's gemma4 conventions, written by vkg_make_checkpoint --gguf): the
// config and every tensor equal the safetensors checkpoint they were made from, the CPU reference
// gives the same logits from both, q8_0 / q4_0 blocks hold exactly the values our quantizers give
// (so the device re-encodes them losslessly), and every bad file is refused with one line.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "host/formats/ggml_blocks.h"
#include "host/model/checkpoint.h"
#include "host/model/gguf/gguf_checkpoint.h"
#include "host/model/gguf/gguf_file.h"
#include "host/model/gguf/gguf_names.h"
#include "host/model/gguf/gguf_writer.h"
#include "host/model/tensor_names.h"
#include "host/reference/ref_model.h"
#include "tests/model/test_helpers.h"

namespace vkg {
namespace {

namespace fs = std::filesystem;

// Writes variant `v` as dir/v (safetensors, bf16) and dir/v.TYPE.gguf.
void Make(const fs::path& dir, const std::string& v, const std::string& type, const std::string& extra = "") {
  const std::string out = (dir / v).string();
  ASSERT_EQ(test::RunMakeCheckpoint("--out " + out + " --variant " + v + " --seed 5 --force --gguf " + out + "." +
                                    type + ".gguf --gguf-type " + type + " " + extra),
            0);
}

void ExpectSameConfig(const ModelConfig& a, const ModelConfig& b) {
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(a.hidden_size, b.hidden_size);
  EXPECT_EQ(a.num_hidden_layers, b.num_hidden_layers);
  EXPECT_EQ(a.num_attention_heads, b.num_attention_heads);
  EXPECT_EQ(a.sliding_window, b.sliding_window);
  EXPECT_EQ(a.max_position_embeddings, b.max_position_embeddings);
  EXPECT_EQ(a.rms_norm_eps, b.rms_norm_eps);
  EXPECT_EQ(a.final_logit_softcapping, b.final_logit_softcapping);
  EXPECT_EQ(a.tie_word_embeddings, b.tie_word_embeddings);
  EXPECT_EQ(a.attention_k_eq_v, b.attention_k_eq_v);
  EXPECT_EQ(a.has_ple(), b.has_ple());
  EXPECT_EQ(a.hidden_size_per_layer_input, b.hidden_size_per_layer_input);
  if (a.has_ple()) {
    EXPECT_EQ(a.vocab_size_per_layer_input, b.vocab_size_per_layer_input);  // unused otherwise
  }
  EXPECT_EQ(a.num_kv_shared_layers, b.num_kv_shared_layers);
  EXPECT_EQ(a.has_moe(), b.has_moe());
  EXPECT_EQ(a.num_experts, b.num_experts);
  EXPECT_EQ(a.top_k_experts, b.top_k_experts);
  EXPECT_EQ(a.moe_intermediate_size, b.moe_intermediate_size);
  EXPECT_EQ(a.bos_token_id, b.bos_token_id);
  EXPECT_EQ(a.eos_token_id, b.eos_token_id);
  EXPECT_EQ(a.layer_types, b.layer_types);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t l = 0; l < a.layers.size(); ++l) {
    const LayerInfo &x = a.layers[l], &y = b.layers[l];
    EXPECT_EQ(x.full, y.full) << l;
    EXPECT_EQ(x.head_dim, y.head_dim) << l;
    EXPECT_EQ(x.n_kv_heads, y.n_kv_heads) << l;
    EXPECT_EQ(x.has_v, y.has_v) << l;
    EXPECT_EQ(x.kv_source_layer, y.kv_source_layer) << l;
    EXPECT_EQ(x.ffn_dim, y.ffn_dim) << l;
    EXPECT_EQ(x.rope_theta, y.rope_theta) << l;
    EXPECT_EQ(x.rope_pairs, y.rope_pairs) << l;
    EXPECT_EQ(x.window, y.window) << l;
  }
}

std::vector<int32_t> Tokens(int n, int vocab) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  uint32_t s = 7;
  for (int32_t& v : t) {
    s = s * 1664525u + 1013904223u;
    v = int32_t((s >> 8) % uint32_t(vocab));
  }
  return t;
}

class GgufVariantTest : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {};

// F32 and BF16 files hold the checkpoint's bf16 values exactly: same config, same tensors, and the
// reference (float32 math on those values) gives bit-identical logits.
TEST_P(GgufVariantTest, SameConfigTensorsAndReferenceLogitsAsSafetensors) {
  const auto [variant, type] = GetParam();
  test::TempDir dir("gguf");
  Make(dir.path(), variant, type);
  const Checkpoint st = Checkpoint::Load(dir.path() / variant);
  const Checkpoint gg = Checkpoint::Load(dir.path() / (std::string(variant) + "." + type + ".gguf"));
  EXPECT_TRUE(gg.is_gguf());
  ExpectSameConfig(st.config(), gg.config());
  ForEachTensor(st.config(),
                [&](const TensorSpec& spec) { EXPECT_EQ(st.Float32(spec.name), gg.Float32(spec.name)) << spec.name; });
  EXPECT_EQ(gg.stored_format(), std::string(type) == "bf16" ? DType::BF16 : DType::F32);

  const ref::Model a(st), b(gg);
  ref::KvCache ca(st.config()), cb(gg.config());
  const std::vector<int32_t> tokens = Tokens(12, st.config().vocab_size);
  EXPECT_EQ(a.Forward(tokens, 0, ca), b.Forward(tokens, 0, cb));
}

INSTANTIATE_TEST_SUITE_P(Variants, GgufVariantTest,
                         ::testing::Combine(::testing::Values("dense", "ple", "e4b", "moe"),
                                            ::testing::Values("f32", "bf16")),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param)) + "_" + std::get<1>(info.param);
                         });

// A row length that is not whole blocks stays F32, as llama.cpp's converter does: the file mixes
// types and computes in f32, which holds every value exactly.
TEST(GgufQuantized, MixedFileComputesInF32) {
  test::TempDir dir("gguf_mixed");
  Make(dir.path(), "ple", "q8_0");  // P = 16: per_layer_projection rows are half a block
  const Checkpoint gg = Checkpoint::Load(dir.path() / "ple.q8_0.gguf");
  EXPECT_EQ(gg.Tensor("layers.0.per_layer_projection.weight").dtype, DType::F32);
  EXPECT_EQ(gg.Tensor("layers.0.self_attn.q_proj.weight").dtype, DType::Q8_0);
  EXPECT_EQ(gg.stored_format(), DType::F32);
}

// q8_0 / q4_0: each matrix row is the checkpoint's row through our (ggml's) quantizer, and every
// block, decoded and quantized again, gives the file's scale and quants back (what the device
// upload does: the numbers are the file's, only their place changes).
TEST(GgufQuantized, BlocksAreGgmlsAndReencodeExactly) {
  for (const DType t : {DType::Q8_0, DType::Q4_0}) {
    const std::string type(DTypeName(t));
    test::TempDir dir("gguf_q_" + type);
    // P = 32: every matrix row is whole blocks, so the file is all q8_0 / q4_0 (the converter
    // keeps rows of other lengths in F32, and then the file computes in f32).
    Make(dir.path(), "ple", type, "--ple-dim 32");
    const Checkpoint st = Checkpoint::Load(dir.path() / "ple");
    const Checkpoint gg = Checkpoint::Load(dir.path() / ("ple." + type + ".gguf"));
    EXPECT_EQ(gg.stored_format(), t);
    int quantized = 0;
    ForEachTensor(st.config(), [&](const TensorSpec& spec) {
      const TensorInfo& info = gg.Tensor(spec.name);
      if (!info.quantized) return;
      ++quantized;
      EXPECT_EQ(info.dtype, t) << spec.name;
      const std::vector<float> src = st.Float32(spec.name), got = gg.Float32(spec.name);
      const size_t cols = size_t(spec.shape.back());
      for (size_t r = 0; r < src.size() / cols; ++r) {
        const std::vector<float> want = RoundTripThrough(t, std::span(src).subspan(r * cols, cols));
        ASSERT_EQ(
            std::vector<float>(got.begin() + std::ptrdiff_t(r * cols), got.begin() + std::ptrdiff_t((r + 1) * cols)),
            want)
            << spec.name << " row " << r;
      }
      for (size_t b = 0; b < got.size() / kQuantBlock; ++b) {
        const float* x = &got[b * kQuantBlock];
        const size_t block_bytes = t == DType::Q8_0 ? kGgmlQ8_0BlockBytes : kGgmlQ4_0BlockBytes;
        const std::vector<uint8_t> again = EncodeGgmlBlocks(t, x, kQuantBlock);
        ASSERT_EQ(0, std::memcmp(again.data(), info.data + b * block_bytes, block_bytes))
            << spec.name << " block " << b;
      }
    });
    EXPECT_GT(quantized, 10) << type;
  }
}

// A ggml q4_0 block: byte j holds value j (low nibble) and value j + 16 (high nibble).
TEST(GgufQuantized, Q4_0NibbleOrderIsGgmls) {
  uint8_t block[kGgmlQ4_0BlockBytes];
  std::memset(block, 0x88, sizeof block);  // every value 0
  const uint16_t one = FloatToHalf(1.f);
  std::memcpy(block, &one, 2);
  block[2 + 3] = uint8_t((8 + 5) | ((8 - 2) << 4));  // value 3 = 5, value 19 = -2
  EXPECT_EQ(GgmlBlockElement(DType::Q4_0, block, 3), 5.f);
  EXPECT_EQ(GgmlBlockElement(DType::Q4_0, block, 19), -2.f);
  EXPECT_EQ(GgmlBlockElement(DType::Q4_0, block, 4), 0.f);
}

// ---- refusals: one line naming the file, the tensor or key, and what is wrong ----

struct Edit {
  std::string drop_tensor;     // leave this tensor out
  std::string reshape_tensor;  // swap its two dimensions
  std::string retype_tensor;   // store it as `type` (bytes of that type, zeros)
  GgmlType type = GgmlType::F32;
  std::string arch;  // general.architecture, if set
};

// Copies `src` with one edit applied.
void Rewrite(const fs::path& src, const fs::path& out, const Edit& e) {
  const GgufModel m = GgufModel::Open(src);
  GgufWriter w;
  for (const auto& [key, value] : m.first().metadata()) {
    if (key == "general.alignment") continue;
    if (key == "general.architecture" && !e.arch.empty()) {
      w.String(key, e.arch);
    } else {
      w.Value(key, value);
    }
  }
  for (const GgufTensor& t : m.first().tensors()) {
    if (t.name == e.drop_tensor) continue;
    std::vector<uint64_t> ne = t.ne;
    std::vector<uint8_t> bytes(t.data, t.data + t.bytes);
    GgmlType type = t.type;
    if (t.name == e.reshape_tensor) std::swap(ne[0], ne[1]);
    if (t.name == e.retype_tensor) {
      type = e.type;
      const GgmlTypeInfo* info = FindGgmlType(uint32_t(type));
      bytes.assign(t.Elements() / info->block_values * info->block_bytes, 0);
    }
    w.Tensor(t.name, type, ne, bytes);
  }
  w.Write(out);
}

class GgufErrorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir("gguf_errors");
    Make(dir_->path(), "dense", "f32");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string LoadError(const Edit& e) {
    const fs::path out = dir_->path() / "bad.gguf";
    Rewrite(dir_->path() / "dense.f32.gguf", out, e);
    return test::ErrorOf([&] { Checkpoint::Load(out); });
  }
  static test::TempDir* dir_;
};
test::TempDir* GgufErrorTest::dir_ = nullptr;

TEST_F(GgufErrorTest, UneditedCopyLoads) {
  const fs::path out = dir_->path() / "copy.gguf";
  Rewrite(dir_->path() / "dense.f32.gguf", out, Edit{});
  EXPECT_NO_THROW(Checkpoint::Load(out));
}

TEST_F(GgufErrorTest, MissingTensor) {
  EXPECT_EQ(LoadError({.drop_tensor = "blk.1.ffn_up.weight"}),
            "bad.gguf: missing tensor blk.1.ffn_up.weight (expected ne [64, 256])");
}

TEST_F(GgufErrorTest, WrongShape) {
  EXPECT_EQ(LoadError({.reshape_tensor = "blk.0.ffn_down.weight"}),
            "bad.gguf: tensor blk.0.ffn_down.weight has ne [64, 256], expected [256, 64]");
}

TEST_F(GgufErrorTest, QuantizedNorm) {
  EXPECT_EQ(LoadError({.retype_tensor = "blk.0.attn_norm.weight", .type = GgmlType::Q8_0}),
            "bad.gguf: tensor blk.0.attn_norm.weight has type Q8_0, expected F32, F16 or BF16");
}

TEST_F(GgufErrorTest, UnsupportedQuantIsRefusedInOneLine) {
  // Q8_1 (32 values) and Q8_K (256: ffn_down's rows, the FFN width 256, are whole blocks) are
  // ggml's activation formats and have no kernels: one line naming the tensor and the type.
  const char kSupported[] = "(supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)";
  EXPECT_EQ(
      LoadError({.retype_tensor = "blk.1.ffn_down.weight", .type = GgmlType::Q8_1}),
      std::string("bad.gguf: tensor blk.1.ffn_down.weight has type Q8_1, which is not supported yet ") + kSupported);
  EXPECT_EQ(
      LoadError({.retype_tensor = "blk.0.ffn_down.weight", .type = GgmlType::Q8_K}),
      std::string("bad.gguf: tensor blk.0.ffn_down.weight has type Q8_K, which is not supported yet ") + kSupported);
}

TEST_F(GgufErrorTest, KQuantMatrixLoads) {
  const fs::path out = dir_->path() / "kq.gguf";
  Rewrite(dir_->path() / "dense.f32.gguf", out, Edit{.retype_tensor = "blk.1.ffn_down.weight", .type = GgmlType::Q6_K});
  EXPECT_EQ(Checkpoint::Load(out).Tensor("layers.1.mlp.down_proj.weight").dtype, DType::Q6_K);
}

TEST_F(GgufErrorTest, GgmlSmallBlockMatricesLoad) {  // Q4_1, Q5_0, Q5_1, Q2_K, Q3_K (ggml_small_blocks.h)
  const std::pair<GgmlType, DType> kTypes[] = {{GgmlType::Q4_1, DType::Q4_1},
                                               {GgmlType::Q5_0, DType::Q5_0},
                                               {GgmlType::Q5_1, DType::Q5_1},
                                               {GgmlType::Q2_K, DType::Q2_K},
                                               {GgmlType::Q3_K, DType::Q3_K}};
  for (const auto& [g, d] : kTypes) {
    const fs::path out = dir_->path() / "more.gguf";
    Rewrite(dir_->path() / "dense.f32.gguf", out, Edit{.retype_tensor = "blk.1.ffn_down.weight", .type = g});
    EXPECT_EQ(Checkpoint::Load(out).Tensor("layers.1.mlp.down_proj.weight").dtype, d) << DTypeName(d);
  }
}

TEST_F(GgufErrorTest, WrongArchitecture) {
  EXPECT_EQ(LoadError({.arch = "llama"}), "bad.gguf: architecture \"llama\" is not supported (expected gemma4)");
  EXPECT_EQ(test::ErrorOf([&] { Checkpoint::LoadConfigOf(dir_->path() / "bad.gguf"); }),
            "bad.gguf: architecture \"llama\" is not supported (expected gemma4)");
}

// llama.cpp's gguf-split layout: metadata in the first part, tensors spread over the parts, every
// part stating split.count. Opened from its first part, the model is the unsplit one.
TEST_F(GgufErrorTest, SplitFileLoadsFromItsFirstPart) {
  const GgufModel whole = GgufModel::Open(dir_->path() / "dense.f32.gguf");
  const auto& tensors = whole.first().tensors();
  for (int part = 0; part < 2; ++part) {
    GgufWriter w;
    if (part == 0) {
      for (const auto& [key, value] : whole.first().metadata()) w.Value(key, value);
    }
    w.U32("split.no", uint32_t(part)).U32("split.count", 2).U32("split.tensors.count", uint32_t(tensors.size()));
    for (size_t i = 0; i < tensors.size(); ++i) {
      if ((i < tensors.size() / 2) != (part == 0)) continue;
      const GgufTensor& t = tensors[i];
      w.Tensor(t.name, t.type, t.ne, std::span(t.data, size_t(t.bytes)));
    }
    w.Write(dir_->path() / ("split-0000" + std::to_string(part + 1) + "-of-00002.gguf"));
  }
  const Checkpoint split = Checkpoint::Load(dir_->path() / "split-00001-of-00002.gguf");
  const Checkpoint one = Checkpoint::Load(dir_->path() / "dense.f32.gguf");
  ForEachTensor(one.config(), [&](const TensorSpec& spec) {
    EXPECT_EQ(split.Float32(spec.name), one.Float32(spec.name)) << spec.name;
  });
  EXPECT_EQ(split.Tensor("norm.weight").file, "split-00002-of-00002.gguf");
  fs::remove(dir_->path() / "split-00002-of-00002.gguf");
  EXPECT_EQ(test::ErrorOf([&] { Checkpoint::Load(dir_->path() / "split-00001-of-00002.gguf"); }),
            "split-00001-of-00002.gguf: part 2 of 2 (split-00002-of-00002.gguf) is missing");
}

TEST(GgufNames, EveryTensorOfEveryVariantHasAName) {
  for (const char* v : {"dense", "ple", "e4b", "moe"}) {
    test::TempDir dir("gguf_names");
    ASSERT_EQ(test::RunMakeCheckpoint("--out " + dir.path().string() + " --variant " + v), 0);
    ForEachTensor(Checkpoint::LoadConfigOf(dir.path()),
                  [&](const TensorSpec& s) { EXPECT_NO_THROW(GgufTensorName(s.name)) << s.name; });
  }
  EXPECT_EQ(GgufTensorName("layers.12.router.per_expert_scale"), "blk.12.ffn_down_exps.scale");
  EXPECT_EQ(GgufTensorName("layers.0.layer_scalar"), "blk.0.layer_output_scale.weight");
}

}  // namespace
}  // namespace vkg
