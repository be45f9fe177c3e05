// Tokenizer from a GGUF vocabulary (layer: host/text). The layout is in gguf_tokenizer.h.
#include "host/text/gguf_tokenizer.h"

#include <nlohmann/json.hpp>
#include <set>

#include "host/error.h"
#include "host/model/gguf/gguf_file.h"

namespace vkg {
namespace {

enum TokenType : int64_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

}  // namespace

nlohmann::json GgufTokenizerJson(const GgufFile& f) {
  using nlohmann::json;
  const auto fail = [&](const std::string& what) { throw Error(f.name() + ": " + what); };
  const std::string model = f.GetString("tokenizer.ggml.model");
  if (model != "gemma4") {
    fail("tokenizer.ggml.model \"" + model + "\" is not supported (expected gemma4, Gemma 4's BPE)");
  }
  const auto array = [&](const char* key, GgufType elem) -> const GgufValue& {
    const GgufValue* v = f.Find(key);
    if (!v) fail(std::string("metadata key '") + key + "' is missing");
    if (v->type != GgufType::kArray || v->elem != elem) {
      fail(std::string("metadata '") + key + "' must be an array of " + GgufTypeName(elem));
    }
    return *v;
  };
  const std::vector<std::string>& tokens = array("tokenizer.ggml.tokens", GgufType::kString).strings;
  const GgufValue* types_v = f.Find("tokenizer.ggml.token_type");
  if (!types_v || types_v->type != GgufType::kArray || types_v->ints.size() != tokens.size()) {
    fail("metadata 'tokenizer.ggml.token_type' must hold one integer per token (" + std::to_string(tokens.size()) +
         ")");
  }
  const std::vector<int64_t>& types = types_v->ints;

  json vocab = json::object(), added = json::array();
  std::set<std::string> pieces;
  for (size_t id = 0; id < tokens.size(); ++id) {
    vocab[tokens[id]] = id;
    pieces.insert(tokens[id]);
    if (types[id] == kControl || types[id] == kUserDefined) {
      added.push_back({{"id", id},
                       {"content", tokens[id]},
                       {"single_word", false},
                       {"lstrip", false},
                       {"rstrip", false},
                       {"normalized", false},
                       {"special", types[id] == kControl}});
    }
  }
  if (vocab.size() != tokens.size()) fail("tokenizer.ggml.tokens holds the same piece twice");

  // "left right": pieces hold no spaces (the normalizer turned them into U+2581), but split where
  // both halves are pieces, to be safe.
  json merges = json::array();
  if (const GgufValue* m = f.Find("tokenizer.ggml.merges")) {
    if (m->type != GgufType::kArray || m->elem != GgufType::kString) {
      fail("metadata 'tokenizer.ggml.merges' must be an array of string");
    }
    for (const std::string& s : m->strings) {
      size_t at = s.find(' ');
      while (at != std::string::npos && !(pieces.count(s.substr(0, at)) && pieces.count(s.substr(at + 1)))) {
        at = s.find(' ', at + 1);
      }
      if (at == std::string::npos) fail("merge \"" + s + "\" is not two pieces of the vocabulary");
      merges.push_back({s.substr(0, at), s.substr(at + 1)});
    }
  }
  json unk = nullptr;
  if (const GgufValue* u = f.Find("tokenizer.ggml.unknown_token_id")) {
    if (u->i < 0 || size_t(u->i) >= tokens.size()) fail("tokenizer.ggml.unknown_token_id is out of range");
    unk = tokens[size_t(u->i)];
  }

  // Gemma's pipeline, as its tokenizer.json states it.
  const std::string kSpace = "\xE2\x96\x81";  // U+2581
  json doc = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpace}}},
      {"pre_tokenizer",
       {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "MergedWithPrevious"}, {"invert", false}}},
      {"post_processor", nullptr},
      {"decoder",
       {{"type", "Sequence"},
        {"decoders", json::array({{{"type", "Replace"}, {"pattern", {{"String", kSpace}}}, {"content", " "}},
                                  {{"type", "ByteFallback"}},
                                  {{"type", "Fuse"}}})}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", unk},
        {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr},
        {"fuse_unk", true},
        {"byte_fallback", true},
        {"ignore_merges", false},
        {"vocab", vocab},
        {"merges", merges}}},
  };
  return doc;
}

tok::Tokenizer LoadModelTokenizer(const std::filesystem::path& model) {
  if (!IsGgufPath(model)) return tok::Tokenizer::Load(model.string());
  const GgufModel m = GgufModel::Open(model);
  return tok::Tokenizer::FromHfJson(GgufTokenizerJson(m.first()), m.first().name());
}

}  // namespace vkg
