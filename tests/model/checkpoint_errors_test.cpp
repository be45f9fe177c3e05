// Bad checkpoints: every setup failure the loader detects, with its exact one-line message.
// The bad files are made in a temp dir from a generated checkpoint; tests/data is never touched.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "host/model/checkpoint.h"
#include "host/reference/ref_model.h"
#include "tests/model/test_helpers.h"

namespace vkg {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

// A safetensors file split into its parts, so a test can edit the header and write it back.
struct StFile {
  ordered_json header;
  std::string data;  // the data section
};

StFile ReadSt(const fs::path& p) {
  const std::string raw = test::ReadFile(p);
  uint64_t n = 0;
  std::memcpy(&n, raw.data(), 8);
  return StFile{ordered_json::parse(raw.substr(8, n)), raw.substr(8 + n)};
}

std::string Le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[size_t(i)] = char(uint8_t(n >> (8 * i)));
  return s;
}

void WriteSt(const fs::path& p, const StFile& f) {
  const std::string h = f.header.dump();
  test::WriteFile(p, Le64(h.size()) + h + f.data);
}

const char kPre[] = "model.language_model.";

class CheckpointErrorsTest : public ::testing::Test {
 protected:
  // One generated dense checkpoint (K = V full layers) and one 2-shard PLE checkpoint per suite.
  static void SetUpTestSuite() {
    base_ = new test::TempDir("ckpt_base");
    ASSERT_EQ(test::RunMakeCheckpoint("--out " + (base_->path() / "dense").string() + " --seed 7"), 0);
    ASSERT_EQ(
        test::RunMakeCheckpoint("--out " + (base_->path() / "sharded").string() + " --variant ple --shards 2 --seed 7"),
        0);
  }
  static void TearDownTestSuite() {
    delete base_;
    base_ = nullptr;
  }
  // A private copy of a generated checkpoint to break.
  fs::path Copy(const std::string& which) {
    const fs::path dst = tmp_.path() / which;
    fs::copy(base_->path() / which, dst, fs::copy_options::recursive);
    return dst;
  }
  std::string LoadError(const fs::path& dir) {
    return test::ErrorOf([&] { Checkpoint::Load(dir); });
  }

  static test::TempDir* base_;
  test::TempDir tmp_{"ckpt"};
};

test::TempDir* CheckpointErrorsTest::base_ = nullptr;

TEST_F(CheckpointErrorsTest, GeneratedCheckpointLoads) {
  const Checkpoint c = Checkpoint::Load(Copy("dense"));
  EXPECT_EQ(c.weights().source_name(), "model.safetensors");
  EXPECT_NE(c.weights().Find("layers.5.self_attn.k_proj.weight"), nullptr);
  EXPECT_EQ(c.weights().Find("layers.5.self_attn.v_proj.weight"), nullptr);  // k_eq_v
  const Checkpoint s = Checkpoint::Load(Copy("sharded"));
  EXPECT_EQ(s.weights().shard_count(), 2u);
}

TEST_F(CheckpointErrorsTest, NotADirectory) {
  const fs::path missing = tmp_.path() / "nope";
  EXPECT_EQ(LoadError(missing), missing.string() + ": not a checkpoint directory");
}

TEST_F(CheckpointErrorsTest, MissingConfigJson) {
  const fs::path dir = Copy("dense");
  fs::remove(dir / "config.json");
  EXPECT_EQ(LoadError(dir), (dir / "config.json").string() + ": cannot open (file missing or unreadable)");
}

TEST_F(CheckpointErrorsTest, MalformedConfigJson) {
  const fs::path dir = Copy("dense");
  test::WriteFile(dir / "config.json", "{\"model_type\": gemma4}");
  EXPECT_EQ(LoadError(dir), "config.json: malformed JSON (parse error at byte 16)");
}

TEST_F(CheckpointErrorsTest, UnknownModelType) {
  const fs::path dir = Copy("dense");
  auto doc = nlohmann::json::parse(test::ReadFile(dir / "config.json"));
  doc["model_type"] = "gemma3";
  test::WriteFile(dir / "config.json", doc.dump());
  EXPECT_EQ(LoadError(dir),
            "config.json: unknown model_type \"gemma3\" (expected gemma4, gemma4_text or gemma4_unified)");
}

TEST_F(CheckpointErrorsTest, MissingWeightsFile) {
  const fs::path dir = Copy("dense");
  fs::remove(dir / "model.safetensors");
  EXPECT_EQ(LoadError(dir), dir.string() + ": no model.safetensors or model.safetensors.index.json");
}

TEST_F(CheckpointErrorsTest, TruncatedSafetensors) {
  const fs::path dir = Copy("dense");
  const fs::path st = dir / "model.safetensors";
  const StFile f = ReadSt(st);
  const size_t full = f.data.size();
  fs::resize_file(st, fs::file_size(st) - 1000);  // cut inside the data section
  EXPECT_EQ(LoadError(dir), "model.safetensors: truncated file: the header describes " + std::to_string(full) +
                                " bytes of tensor data, but only " + std::to_string(full - 1000) + " follow it");
  fs::resize_file(st, 5);  // not even the header length
  EXPECT_EQ(LoadError(dir), "model.safetensors: truncated file (5 bytes, too short for the 8-byte header length)");
}

TEST_F(CheckpointErrorsTest, HeaderLengthBeyondFile) {
  const fs::path dir = Copy("dense");
  const fs::path st = dir / "model.safetensors";
  std::string raw = test::ReadFile(st);
  raw.replace(0, 8, Le64(1u << 30));
  test::WriteFile(st, raw);
  EXPECT_EQ(LoadError(dir), "model.safetensors: header length 1073741824 is beyond the end of the file (" +
                                std::to_string(raw.size()) + " bytes)");
}

TEST_F(CheckpointErrorsTest, MalformedJsonHeader) {
  const fs::path dir = Copy("dense");
  const fs::path st = dir / "model.safetensors";
  std::string raw = test::ReadFile(st);
  raw[8 + 3] = '\x01';  // a control character inside the first key
  test::WriteFile(st, raw);
  EXPECT_EQ(LoadError(dir), "model.safetensors: malformed JSON header (parse error at byte 4)");
}

TEST_F(CheckpointErrorsTest, OffsetsOutsideTheFile) {
  const fs::path dir = Copy("dense");
  StFile f = ReadSt(dir / "model.safetensors");
  const uint64_t n = f.data.size();
  f.header[std::string(kPre) + "norm.weight"]["data_offsets"] = {n + 64, n + 64 + 128};
  WriteSt(dir / "model.safetensors", f);
  EXPECT_EQ(LoadError(dir), "model.safetensors: tensor model.language_model.norm.weight data_offsets [" +
                                std::to_string(n + 64) + ", " + std::to_string(n + 192) +
                                "] point outside the file (data section is " + std::to_string(n) + " bytes)");
}

TEST_F(CheckpointErrorsTest, OverlappingTensors) {
  const fs::path dir = Copy("dense");
  StFile f = ReadSt(dir / "model.safetensors");
  const std::string a = std::string(kPre) + "layers.0.input_layernorm.weight";
  const std::string b = std::string(kPre) + "norm.weight";
  const uint64_t begin = f.header[a]["data_offsets"][0].get<uint64_t>();
  f.header[b]["data_offsets"] = {begin + 64, begin + 192};  // [H=64] bf16 = 128 bytes each
  WriteSt(dir / "model.safetensors", f);
  EXPECT_EQ(LoadError(dir), "model.safetensors: tensors " + a + " [" + std::to_string(begin) + ", " +
                                std::to_string(begin + 128) + ") and " + b + " [" + std::to_string(begin + 64) + ", " +
                                std::to_string(begin + 192) + ") overlap");
}

TEST_F(CheckpointErrorsTest, OffsetsDisagreeWithShape) {
  const fs::path dir = Copy("dense");
  StFile f = ReadSt(dir / "model.safetensors");
  auto& t = f.header[std::string(kPre) + "norm.weight"];
  const uint64_t begin = t["data_offsets"][0].get<uint64_t>();
  t["data_offsets"] = {begin, begin + 100};
  WriteSt(dir / "model.safetensors", f);
  EXPECT_EQ(LoadError(dir), "model.safetensors: tensor model.language_model.norm.weight data_offsets [" +
                                std::to_string(begin) + ", " + std::to_string(begin + 100) +
                                "] hold 100 bytes, but shape [64] of BF16 needs 128");
}

TEST_F(CheckpointErrorsTest, MissingTensor) {
  const fs::path dir = Copy("dense");
  StFile f = ReadSt(dir / "model.safetensors");
  f.header.erase(std::string(kPre) + "layers.2.mlp.up_proj.weight");
  WriteSt(dir / "model.safetensors", f);
  EXPECT_EQ(LoadError(dir), "model.safetensors: missing tensor layers.2.mlp.up_proj.weight (expected shape [256, 64])");
}

TEST_F(CheckpointErrorsTest, WrongShape) {
  const fs::path dir = Copy("dense");
  StFile f = ReadSt(dir / "model.safetensors");
  auto& t = f.header[std::string(kPre) + "layers.3.self_attn.q_proj.weight"];
  const uint64_t begin = t["data_offsets"][0].get<uint64_t>();
  t["shape"] = {64, 48};
  t["data_offsets"] = {begin, begin + 64 * 48 * 2};  // consistent with the new shape
  WriteSt(dir / "model.safetensors", f);
  EXPECT_EQ(LoadError(dir),
            "model.safetensors: tensor layers.3.self_attn.q_proj.weight has shape [64, 48], expected [64, 64]");
}

TEST_F(CheckpointErrorsTest, WrongDtype) {
  const fs::path dir = Copy("dense");
  StFile f = ReadSt(dir / "model.safetensors");
  f.header[std::string(kPre) + "layers.1.layer_scalar"]["dtype"] = "I16";  // same size as BF16
  WriteSt(dir / "model.safetensors", f);
  EXPECT_EQ(LoadError(dir), "model.safetensors: tensor layers.1.layer_scalar has dtype I16, expected BF16, F16 or F32");
}

TEST_F(CheckpointErrorsTest, UnsupportedDtype) {
  const fs::path dir = Copy("dense");
  StFile f = ReadSt(dir / "model.safetensors");
  f.header[std::string(kPre) + "layers.1.layer_scalar"]["dtype"] = "Q9";
  WriteSt(dir / "model.safetensors", f);
  EXPECT_EQ(LoadError(dir),
            "model.safetensors: tensor model.language_model.layers.1.layer_scalar has "
            "unsupported dtype \"Q9\" (expected F32, F16 or BF16)");
}

TEST_F(CheckpointErrorsTest, MissingShard) {
  const fs::path dir = Copy("sharded");
  const auto index = nlohmann::json::parse(test::ReadFile(dir / "model.safetensors.index.json"));
  std::string first;  // the loader names the first tensor (in key order) that the shard holds
  for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
    if (it.value() == "model-00002-of-00002.safetensors") {
      first = it.key();
      break;
    }
  }
  ASSERT_FALSE(first.empty());
  fs::remove(dir / "model-00002-of-00002.safetensors");
  EXPECT_EQ(LoadError(dir),
            "model.safetensors.index.json: shard model-00002-of-00002.safetensors "
            "(named for tensor " +
                first + ") does not exist");
}

TEST_F(CheckpointErrorsTest, TensorMissingFromItsShard) {
  const fs::path dir = Copy("sharded");
  const fs::path shard = dir / "model-00001-of-00002.safetensors";
  StFile f = ReadSt(shard);
  f.header.erase(std::string(kPre) + "embed_tokens.weight");
  WriteSt(shard, f);
  EXPECT_EQ(LoadError(dir),
            "model-00001-of-00002.safetensors: tensor model.language_model.embed_tokens.weight "
            "named in model.safetensors.index.json is not in this file");
}

TEST_F(CheckpointErrorsTest, MissingTensorInShardedCheckpointNamesTheIndex) {
  const fs::path dir = Copy("sharded");
  auto index = nlohmann::ordered_json::parse(test::ReadFile(dir / "model.safetensors.index.json"));
  const std::string name = std::string(kPre) + "layers.0.self_attn.q_norm.weight";
  const std::string shard = index["weight_map"][name];
  index["weight_map"].erase(name);
  test::WriteFile(dir / "model.safetensors.index.json", index.dump());
  StFile f = ReadSt(dir / shard);
  f.header.erase(name);
  WriteSt(dir / shard, f);
  EXPECT_EQ(LoadError(dir),
            "model.safetensors.index.json: missing tensor layers.0.self_attn.q_norm.weight "
            "(expected shape [16])");
}

// Random byte corruption of the header: the loader either accepts the file or throws vkg::Error,
// never anything else (and, under the sanitizer build, never reads out of bounds).
TEST_F(CheckpointErrorsTest, CorruptedHeaderBytesOnlyEverThrowVkgError) {
  const fs::path dir = Copy("dense");
  const fs::path st = dir / "model.safetensors";
  const std::string good = test::ReadFile(st);
  uint64_t header_len = 0;
  std::memcpy(&header_len, good.data(), 8);
  uint32_t s = 12345;
  auto next = [&] { return s = s * 1664525u + 1013904223u; };
  const char kChars[] = "0123456789[]{},:\"-eE. x";
  int errors = 0;
  for (int trial = 0; trial < 150; ++trial) {
    std::string bad = good;
    for (int k = 0; k < 1 + int(next() % 3); ++k) {
      const size_t at = 8 + next() % header_len;
      bad[at] = kChars[next() % (sizeof(kChars) - 1)];
    }
    test::WriteFile(st, bad);
    try {
      Checkpoint::Load(dir);
    } catch (const vkg::Error&) {
      ++errors;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "trial " << trial << ": non-vkg exception: " << e.what();
    }
  }
  EXPECT_GT(errors, 100);  // most corruptions must be caught
}

// Not errors: multimodal tensors (any dtype) are skipped, extra k_proj on a KV-shared layer is
// ignored, and F32 / F16 weights are converted like BF16 ones.
TEST_F(CheckpointErrorsTest, SkipsMultimodalAndAcceptsFloatDtypes) {
  const fs::path dir = Copy("dense");
  const Checkpoint ref_ckpt = Checkpoint::Load(dir);
  const std::vector<float> norm = ref_ckpt.Float32("norm.weight");

  StFile f = ReadSt(dir / "model.safetensors");
  const uint64_t n = f.data.size();
  f.header["model.vision_tower.encoder.weird"] = {{"dtype", "Q9"}, {"shape", {3}}, {"data_offsets", {n, n + 6}}};
  f.header["model.embed_vision.embedding_projection.weight"] = {
      {"dtype", "I64"}, {"shape", {1}}, {"data_offsets", {n + 6, n + 14}}};
  f.data += std::string(14, '\0');
  // norm.weight re-stored as F32 at the end (its old bytes become an unused gap).
  std::string f32(norm.size() * 4, '\0');
  std::memcpy(f32.data(), norm.data(), f32.size());
  f.header[std::string(kPre) + "norm.weight"] = {
      {"dtype", "F32"}, {"shape", {64}}, {"data_offsets", {n + 14, n + 14 + f32.size()}}};
  f.data += f32;
  WriteSt(dir / "model.safetensors", f);

  const Checkpoint c = Checkpoint::Load(dir);
  EXPECT_EQ(c.Tensor("norm.weight").dtype, DType::F32);
  EXPECT_EQ(c.Float32("norm.weight"), norm);
  EXPECT_EQ(c.weights().Find("vision_tower.encoder.weird"), nullptr);
  EXPECT_EQ(c.weights().all().size(), ref_ckpt.weights().all().size());
}

}  // namespace
}  // namespace vkg
