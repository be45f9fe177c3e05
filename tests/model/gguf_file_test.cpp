// The GGUF reader: a file written by GgufWriter reads back exactly (metadata of every type,
// tensors of several types and alignments, split parts), and every kind of corruption gives one
// exact error line: truncation at every byte, wrong magic and version, absurd counts and sizes,
// unknown types, misaligned, overlapping and out-of-range data.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "host/error.h"
#include "host/model/gguf/gguf_file.h"
#include "host/model/gguf/gguf_writer.h"

namespace vkg::test {
namespace {

std::vector<uint8_t> Bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t(seed + i * 7);
  return b;
}

GgufWriter Sample(uint32_t alignment = 32) {
  GgufWriter w(alignment);
  w.String("general.architecture", "gemma4")
      .U32("gemma4.block_count", 3)
      .I32("test.negative", -7)
      .U64("test.big", (uint64_t(1) << 40) + 3)
      .F32("gemma4.final_logit_softcapping", 30.0f)
      .Bool("test.flag", true)
      .Strings("tokenizer.ggml.tokens", {"<pad>", "<eos>", "hello", ""})
      .I32s("gemma4.attention.head_count_kv", {1, 1, 2})
      .F32s("tokenizer.ggml.scores", {0.f, -1.5f, 2.25f, 0.f})
      .Bools("gemma4.attention.sliding_window_pattern", {true, true, false});
  w.Tensor("token_embd.weight", GgmlType::F16, {64, 4}, Bytes(64 * 4 * 2, 1));
  w.Tensor("blk.0.attn_q.weight", GgmlType::Q4_0, {64, 3}, Bytes(2 * 18 * 3, 2));
  w.Tensor("blk.0.ffn_down.weight", GgmlType::Q4_K, {256, 2}, Bytes(144 * 2, 3));
  w.Tensor("output_norm.weight", GgmlType::F32, {64}, Bytes(256, 4));
  return w;
}

std::string ParseError(const std::vector<uint8_t>& b) {
  try {
    GgufFile::Parse(b, "m.gguf");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(GgufFile, ReadsBackWhatTheWriterWrote) {
  for (uint32_t alignment : {32u, 64u, 8u}) {
    const std::vector<uint8_t> bytes = Sample(alignment).Bytes();
    const auto f = GgufFile::Parse(bytes, "m.gguf");
    EXPECT_EQ(f->version(), 3u);
    EXPECT_EQ(f->alignment(), alignment);
    EXPECT_EQ(f->GetString("general.architecture"), "gemma4");
    EXPECT_EQ(f->GetInt("gemma4.block_count"), 3);
    EXPECT_EQ(f->GetInt("test.negative"), -7);
    EXPECT_EQ(f->GetInt("test.big"), (int64_t(1) << 40) + 3);
    EXPECT_EQ(f->GetFloat("gemma4.final_logit_softcapping"), 30.0);
    EXPECT_TRUE(f->GetBool("test.flag"));
    EXPECT_EQ(f->Find("tokenizer.ggml.tokens")->strings, (std::vector<std::string>{"<pad>", "<eos>", "hello", ""}));
    EXPECT_EQ(f->Find("gemma4.attention.head_count_kv")->ints, (std::vector<int64_t>{1, 1, 2}));
    EXPECT_EQ(f->Find("tokenizer.ggml.scores")->floats, (std::vector<double>{0, -1.5, 2.25, 0}));
    EXPECT_EQ(f->Find("gemma4.attention.sliding_window_pattern")->ints, (std::vector<int64_t>{1, 1, 0}));
    ASSERT_EQ(f->tensors().size(), 4u);
    const GgufTensor& q = f->tensors()[1];
    EXPECT_EQ(q.name, "blk.0.attn_q.weight");
    EXPECT_EQ(q.type, GgmlType::Q4_0);
    EXPECT_EQ(q.Shape(), (std::vector<int64_t>{3, 64}));
    EXPECT_EQ(q.bytes, 2u * 18 * 3);
    EXPECT_EQ(std::memcmp(q.data, Bytes(2 * 18 * 3, 2).data(), q.bytes), 0);
    EXPECT_EQ((q.data - bytes.data()) % alignment, 0);
    const GgufTensor& k = f->tensors()[2];
    EXPECT_EQ(k.type, GgmlType::Q4_K);
    EXPECT_EQ(std::memcmp(k.data, Bytes(144 * 2, 3).data(), k.bytes), 0);
  }
}

TEST(GgufFile, TypedReadsNameTheKeyAndTheType) {
  const std::vector<uint8_t> bytes = Sample().Bytes();
  const auto f = GgufFile::Parse(bytes, "m.gguf");
  auto error = [](auto fn) {
    try {
      fn();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(error([&] { f->GetInt("gemma4.missing"); }), "m.gguf: metadata key 'gemma4.missing' is missing");
  EXPECT_EQ(error([&] { f->GetInt("general.architecture"); }),
            "m.gguf: metadata 'general.architecture' is a string, expected integer");
  EXPECT_EQ(error([&] { f->GetString("gemma4.block_count"); }),
            "m.gguf: metadata 'gemma4.block_count' is a u32, expected string");
}

TEST(GgufFile, EveryTruncationIsOneErrorLine) {
  const std::vector<uint8_t> bytes = Sample().Bytes();
  for (size_t n = 0; n < bytes.size(); ++n) {
    // Cutting inside the final tensor's padding loses nothing the reader needs.
    const std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + std::ptrdiff_t(n));
    const std::string e = ParseError(cut);
    const GgufFile* ok = nullptr;
    if (e.empty()) {
      auto f = GgufFile::Parse(cut, "m.gguf");
      ok = f.get();
      const GgufTensor& last = f->tensors().back();
      EXPECT_LE(size_t(last.data - cut.data()) + last.bytes, n) << "cut at " << n;
      continue;
    }
    (void)ok;
    EXPECT_EQ(e.rfind("m.gguf: ", 0), 0u) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    EXPECT_TRUE(e.find("truncated") != std::string::npos || e.find("magic") != std::string::npos ||
                e.find("cannot fit") != std::string::npos || e.find("does not fit") != std::string::npos ||
                e.find("past the end") != std::string::npos)
        << "cut at " << n << ": " << e;
  }
}

// Offsets of the header fields in a file with no metadata and no tensors.
void PutU64(std::vector<uint8_t>& b, size_t at, uint64_t v) { std::memcpy(&b[at], &v, 8); }
void PutU32(std::vector<uint8_t>& b, size_t at, uint32_t v) { std::memcpy(&b[at], &v, 4); }

TEST(GgufFile, RefusesBadHeaders) {
  std::vector<uint8_t> b = GgufWriter().Bytes();
  ASSERT_EQ(b.size(), 32u);  // header (24 bytes) padded to the alignment
  EXPECT_EQ(ParseError(b), "");
  auto with = [&](auto edit) {
    std::vector<uint8_t> c = b;
    edit(c);
    return ParseError(c);
  };
  EXPECT_EQ(with([](auto& c) { c[0] = 'X'; }), "m.gguf: not a GGUF file (no 'GGUF' magic)");
  EXPECT_EQ(ParseError({}), "m.gguf: not a GGUF file (no 'GGUF' magic)");
  EXPECT_EQ(with([](auto& c) { PutU32(c, 4, 1); }), "m.gguf: GGUF version 1 is not supported (2 and 3 are)");
  EXPECT_EQ(with([](auto& c) { PutU32(c, 4, 77); }), "m.gguf: GGUF version 77 is not supported (2 and 3 are)");
  EXPECT_EQ(with([](auto& c) { PutU64(c, 8, ~uint64_t(0)); }),
            "m.gguf: tensor count 18446744073709551615 cannot fit in a file of 32 bytes");
  EXPECT_EQ(with([](auto& c) { PutU64(c, 16, uint64_t(1) << 60); }),
            "m.gguf: metadata count 1152921504606846976 cannot fit in a file of 32 bytes");
}

// A file with one metadata entry whose bytes a test then edits: key "k" (u64 1, 'k'), type, value.
std::vector<uint8_t> OneValue(uint32_t type, std::vector<uint8_t> value) {
  std::vector<uint8_t> b = {'G', 'G', 'U', 'F', 3, 0, 0, 0};
  auto u64 = [&](uint64_t v) { b.insert(b.end(), (uint8_t*)&v, (uint8_t*)&v + 8); };
  u64(0);
  u64(1);
  u64(1);
  b.push_back('k');
  b.insert(b.end(), (uint8_t*)&type, (uint8_t*)&type + 4);
  b.insert(b.end(), value.begin(), value.end());
  return b;
}

TEST(GgufFile, RefusesBadMetadata) {
  EXPECT_EQ(ParseError(OneValue(13, {0})), "m.gguf: metadata 'k': unknown value type 13");
  EXPECT_EQ(ParseError(OneValue(7, {2})), "m.gguf: metadata 'k': bool value 2 is neither 0 nor 1");
  // A string claiming 2^62 bytes.
  EXPECT_EQ(ParseError(OneValue(8, {0, 0, 0, 0, 0, 0, 0, 0x40})),
            "m.gguf: truncated file: string value at byte 45 needs 4611686018427387904 bytes, 0 left");
  // An array of 2^40 u32: refused before anything is reserved.
  EXPECT_EQ(ParseError(OneValue(9, {4, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0})),
            "m.gguf: metadata 'k': array of 1099511627776 u32 elements does not fit in the 0 bytes left");
  EXPECT_EQ(ParseError(OneValue(9, {99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})),
            "m.gguf: metadata 'k': unknown array element type 99");
  // Arrays nested 5 deep.
  std::vector<uint8_t> nested;
  for (int d = 0; d < 5; ++d) nested.insert(nested.end(), {9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(ParseError(OneValue(9, nested)), "m.gguf: metadata 'k': arrays nested deeper than 4");
  GgufWriter twice;
  twice.U32("a", 1).U32("a", 2);
  EXPECT_EQ(ParseError(twice.Bytes()), "m.gguf: metadata key 'a' appears twice");
  GgufWriter align;
  align.U32("general.alignment", 48);
  EXPECT_EQ(ParseError(align.Bytes()), "m.gguf: general.alignment must be a power of two up to 1 MiB, got 48");
}

// The byte offset of tensor `name`'s record fields in bytes written by GgufWriter.
size_t RecordOf(const std::vector<uint8_t>& b, const std::string& name) {
  for (size_t i = 0; i + name.size() <= b.size(); ++i) {
    if (std::memcmp(&b[i], name.data(), name.size()) == 0) return i + name.size();
  }
  return 0;
}

TEST(GgufFile, RefusesBadTensorRecords) {
  GgufWriter w;
  w.Tensor("a", GgmlType::F32, {8, 2}, Bytes(64, 1)).Tensor("b", GgmlType::Q8_0, {32}, Bytes(34, 2));
  const std::vector<uint8_t> b = w.Bytes();
  ASSERT_EQ(ParseError(b), "");
  const size_t a = RecordOf(b, "a"), rb = RecordOf(b, "b");  // n_dims u32, ne u64 x n, type u32, offset u64
  auto with = [&](auto edit) {
    std::vector<uint8_t> c = b;
    edit(c);
    return ParseError(c);
  };
  EXPECT_EQ(with([&](auto& c) { PutU32(c, a, 0); }), "m.gguf: tensor 'a': 0 dimensions (1 to 4 allowed)");
  EXPECT_EQ(with([&](auto& c) { PutU32(c, a, 9); }), "m.gguf: tensor 'a': 9 dimensions (1 to 4 allowed)");
  EXPECT_EQ(with([&](auto& c) { PutU64(c, a + 4, 0); }),
            "m.gguf: tensor 'a': dimension 0 of 0 gives an impossible size");
  EXPECT_EQ(with([&](auto& c) { PutU64(c, a + 12, uint64_t(1) << 62); }),
            "m.gguf: tensor 'a': dimension 1 of 4611686018427387904 gives an impossible size");
  EXPECT_EQ(with([&](auto& c) { PutU32(c, a + 20, 40); }),
            "m.gguf: tensor 'a' has ggml type 40, which vkgemma does not know");
  EXPECT_EQ(with([&](auto& c) { PutU64(c, rb + 4, 48); }),
            "m.gguf: tensor 'b': rows of 48 values are not whole Q8_0 blocks of 32");
  EXPECT_EQ(with([&](auto& c) { PutU64(c, rb + 16, 3); }),
            "m.gguf: tensor 'b': data offset 3 is not a multiple of the alignment 32");
  EXPECT_EQ(with([&](auto& c) { PutU64(c, rb + 16, 0); }), "m.gguf: tensors 'a' and 'b' overlap in the data section");
  EXPECT_EQ(with([&](auto& c) { PutU64(c, rb + 16, 1 << 20); }),
            "m.gguf: tensor 'b': data [1048576, 1048610) lies past the end of the 128-byte data section");
  EXPECT_EQ(with([&](auto& c) { c[rb - 1] = 'a'; }), "m.gguf: tensor 'a' appears twice");
}

TEST(GgufModel, OpensEveryPartFromTheFirst) {
  const auto dir = std::filesystem::temp_directory_path() / ("vkg-gguf-split-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  GgufWriter p1, p2;
  p1.String("general.architecture", "gemma4").U32("split.count", 2).Tensor("a", GgmlType::F32, {4}, Bytes(16, 1));
  p2.U32("split.count", 2).Tensor("b", GgmlType::F16, {8}, Bytes(16, 2));
  p1.Write(dir / "m-00001-of-00002.gguf");
  p2.Write(dir / "m-00002-of-00002.gguf");
  const GgufModel m = GgufModel::Open(dir / "m-00001-of-00002.gguf");
  EXPECT_EQ(m.parts().size(), 2u);
  EXPECT_EQ(m.tensor_count(), 2u);
  ASSERT_NE(m.FindTensor("b"), nullptr);
  EXPECT_EQ(m.FindTensor("b")->type, GgmlType::F16);
  EXPECT_EQ(m.first().GetString("general.architecture"), "gemma4");
  auto error = [&](const std::string& name) {
    try {
      GgufModel::Open(dir / name);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(error("m-00002-of-00002.gguf"),
            "m-00002-of-00002.gguf: part 2 of a split model; open its first part (m-00001-of-00002.gguf)");
  std::filesystem::remove(dir / "m-00002-of-00002.gguf");
  EXPECT_EQ(error("m-00001-of-00002.gguf"), "m-00001-of-00002.gguf: part 2 of 2 (m-00002-of-00002.gguf) is missing");
  std::filesystem::copy_file(dir / "m-00001-of-00002.gguf", dir / "single.gguf");
  EXPECT_EQ(error("single.gguf"),
            "single.gguf: split.count says 2 parts, 1 found (name the first part, '-00001-of-0000N.gguf')");
  EXPECT_EQ(error("absent.gguf").rfind((dir / "absent.gguf").string() + ": cannot open", 0), 0u);
  std::filesystem::remove_all(dir);
  EXPECT_TRUE(IsGgufPath("x/model-Q4_K_M.gguf"));
  EXPECT_TRUE(IsGgufPath("M.GGUF"));
  EXPECT_FALSE(IsGgufPath("x/checkpoint"));
}

}  // namespace
}  // namespace vkg::test
