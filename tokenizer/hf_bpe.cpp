// tokenizer.json BPE. Encoding follows the Hugging Face tokenizers pipeline:
//   1. split out the added tokens that match the raw text ("normalized": false), with Hugging
//      Face's rules (added_tokens.h); SpecialTokens::kAsText leaves the special ones in the text;
//   2. normalizer (Replace / Prepend / Sequence) on each remaining section;
//   3. split out the added tokens with "normalized": true from the normalized sections;
//   4. pre_tokenizer (Split on a string, or none);
//   5. BPE on each word: characters (unknown ones as <0xNN> byte pieces when byte_fallback), then
//      merges applied lowest rank first, leftmost first among equal ranks.
//
// Speed: a word can be the whole input (Gemma's pre-tokenizer never splits after "▁"
// normalization), so each word is cut into chunks at positions where no merge can ever cross: a
// merge across a position creates a vocab token containing the two characters on either side, so
// if that character pair occurs in no merge result, BPE on the pieces gives exactly BPE on the
// whole. Chunks are BPE'd with a linked list + binary heap and cached per Encode() call.
#include "tokenizer/hf_bpe.h"

#include <algorithm>
#include <deque>
#include <fstream>
#include <functional>
#include <queue>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe_text.h"
#include "tokenizer/tokenizer.h"

namespace vkg::tok::detail {
namespace {

using json = nlohmann::json;

uint64_t PairKey(uint32_t a, uint32_t b) { return (static_cast<uint64_t>(a) << 32) | b; }

constexpr uint32_t kInvalidByteCp = 0x110000;  // code point stand-in for a byte that is not UTF-8

class HfBpe final : public Backend {
 public:
  HfBpe(const std::string& path, const json& root);

  std::vector<int32_t> Encode(std::string_view text, SpecialTokens mode) const override;
  std::string Decode(std::span<const int32_t> ids) const override;
  std::optional<std::string> IdToPiece(int32_t id) const override {
    if (id < 0 || id >= static_cast<int32_t>(pieces_.size()) || !has_piece_[id]) return std::nullopt;
    return pieces_[id];
  }
  std::optional<int32_t> PieceToId(std::string_view piece) const override {
    if (auto it = added_.find(piece); it != added_.end()) return it->second;
    if (auto it = vocab_.find(piece); it != vocab_.end()) return it->second;
    return std::nullopt;
  }
  int32_t VocabSize() const override { return static_cast<int32_t>(pieces_.size()); }
  bool IsSpecial(int32_t id) const override {
    return id >= 0 && id < static_cast<int32_t>(special_.size()) && special_[id];
  }

 private:
  // Per Encode() call. Keys view into `texts` (normalized sections), which outlive the map.
  struct Cache {
    std::deque<std::string> texts;
    std::unordered_map<std::string_view, std::pair<uint32_t, uint32_t>> spans;
    std::vector<int32_t> ids;
  };
  [[noreturn]] void Fail(const std::string& what) const { throw TokenizerError("tokenizer: '" + path_ + "': " + what); }
  void LoadModel(const json& model);
  void LoadVocab(const json& model);
  void LoadMerges(const json& merges);
  void LoadAddedTokens(const json& added);
  int64_t IdLimit() const { return std::min(static_cast<int64_t>(id_limit_), int64_t{1} << 30); }
  std::string IdRangeNote() const {
    return " [0, " + std::to_string(IdLimit()) + "): the file defines " + std::to_string(id_limit_) +
           " tokens (vocab and added_tokens)";
  }
  void EncodeSection(std::string_view raw, bool skip_special, Cache& cache, std::vector<int32_t>& out) const;
  void EncodeWord(std::string_view word, Cache& cache, std::vector<int32_t>& out) const;
  void EncodeChunk(std::string_view chunk, std::vector<int32_t>& out) const;
  int32_t CharId(std::string_view ch) const;

  StrIdMap vocab_;                   // model vocab
  StrIdMap added_;                   // added tokens (content -> id)
  std::vector<std::string> pieces_;  // id -> piece text (model vocab and added tokens)
  std::vector<uint8_t> has_piece_;
  std::vector<uint8_t> special_;
  std::vector<uint8_t> is_added_;
  std::unordered_map<uint64_t, uint64_t> merges_;  // (left id, right id) -> (rank << 32 | new id)
  std::unordered_set<uint64_t> merge_bigrams_;     // code point pairs inside some merge result
  bool chunking_ = true;
  int32_t ascii_ids_[128];
  int32_t byte_ids_[256];
  bool all_bytes_ = false;
  std::optional<int32_t> unk_id_;
  bool byte_fallback_ = false, fuse_unk_ = false, ignore_merges_ = false;
  size_t id_limit_ = 0;  // vocab entries + added tokens: every id lies below it
  AddedTokens added_tokens_;
  Normalizer normalizer_;
  PreTokenizer pre_tokenizer_;
  DecoderChain decoder_;
};

HfBpe::HfBpe(const std::string& path, const json& root) {
  path_ = path;
  if (!root.is_object()) Fail("the top level is not a JSON object");
  if (!root.contains("model") || !root["model"].is_object()) Fail("missing \"model\"");
  // Ids index tables of one slot per id up to the largest, so they must lie below the number of
  // tokens the file defines (vocab entries plus added tokens): otherwise one entry with a huge id
  // would make a small file allocate gigabytes.
  const json& model = root["model"];
  id_limit_ = (model.contains("vocab") && model["vocab"].is_object() ? model["vocab"].size() : 0) +
              (root.contains("added_tokens") && root["added_tokens"].is_array() ? root["added_tokens"].size() : 0);
  LoadModel(model);
  std::string err;
  if (!normalizer_.Parse(root.value("normalizer", json()), &err)) Fail(err);
  if (!pre_tokenizer_.Parse(root.value("pre_tokenizer", json()), &err)) Fail(err);
  if (!decoder_.Parse(root.value("decoder", json()), &err)) Fail(err);
  // After the normalizer: normalized added tokens are searched for as the normalizer writes them.
  if (root.contains("added_tokens") && !root["added_tokens"].is_null()) LoadAddedTokens(root["added_tokens"]);
}

void HfBpe::LoadModel(const json& model) {
  const std::string type = model.value("type", std::string("BPE"));
  if (type != "BPE") Fail("model type \"" + type + "\" is not supported (only \"BPE\")");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(key) && !model[key].is_null() && model[key] != "") {
      Fail(std::string("model.") + key + " is not supported");
    }
  }
  if (model.contains("dropout") && model["dropout"].is_number() && model["dropout"].get<double>() > 0) {
    Fail("model.dropout is not supported");
  }
  if (!model.contains("vocab") || !model["vocab"].is_object()) Fail("missing \"model.vocab\" (token -> id)");
  if (!model.contains("merges") || !model["merges"].is_array()) Fail("missing \"model.merges\"");
  byte_fallback_ = model.value("byte_fallback", false);
  fuse_unk_ = model.value("fuse_unk", false);
  ignore_merges_ = model.value("ignore_merges", false);
  LoadVocab(model);
  LoadMerges(model["merges"]);
  // Unknown characters fuse into one <unk> across chunk boundaries; only chunk when that cannot happen.
  if (fuse_unk_ && !(byte_fallback_ && all_bytes_)) chunking_ = false;
}

// model.vocab (token -> id), the pieces by id, unk_token, and the ids of ASCII characters and of
// the <0xXX> byte tokens.
void HfBpe::LoadVocab(const json& model) {
  const json& vocab = model["vocab"];
  vocab_.reserve(vocab.size());
  int64_t max_id = -1;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer()) Fail("vocab entry \"" + it.key() + "\" has no integer id");
    const int64_t id = it.value().get<int64_t>();
    if (id < 0 || id >= IdLimit()) Fail("vocab id " + std::to_string(id) + " is out of range" + IdRangeNote());
    vocab_.emplace(it.key(), static_cast<int32_t>(id));
    max_id = std::max(max_id, id);
  }
  pieces_.assign(static_cast<size_t>(max_id + 1), std::string());
  has_piece_.assign(pieces_.size(), 0);
  for (const auto& [piece, id] : vocab_) {
    pieces_[id] = piece;
    has_piece_[id] = 1;
  }
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    auto it = vocab_.find(model["unk_token"].get<std::string>());
    if (it == vocab_.end()) Fail("unk_token \"" + model["unk_token"].get<std::string>() + "\" is not in the vocab");
    unk_id_ = it->second;
  }
  for (int c = 0; c < 128; ++c) {
    const char ch = static_cast<char>(c);
    auto it = vocab_.find(std::string_view(&ch, 1));
    ascii_ids_[c] = it == vocab_.end() ? -1 : it->second;
  }
  all_bytes_ = true;
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    auto it = vocab_.find(std::string_view(name));
    byte_ids_[b] = it == vocab_.end() ? -1 : it->second;
    if (byte_ids_[b] < 0) all_bytes_ = false;
  }
}

// model.merges ("a b" or ["a", "b"]), ranked by position, and the code point pairs inside their results.
void HfBpe::LoadMerges(const json& merges) {
  merges_.reserve(merges.size() * 2);
  uint32_t rank = 0;
  for (const json& m : merges) {
    std::string a, b;
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      const size_t sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos) {
        Fail("merge \"" + s + "\" is not two tokens separated by one space");
      }
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      a = m[0].get<std::string>();
      b = m[1].get<std::string>();
    } else {
      Fail("merge #" + std::to_string(rank) + " is neither \"a b\" nor [\"a\", \"b\"]");
    }
    auto ia = vocab_.find(a), ib = vocab_.find(b), ic = vocab_.find(a + b);
    if (ia == vocab_.end() || ib == vocab_.end() || ic == vocab_.end()) {
      Fail("merge \"" + a + " " + b + "\" uses a token that is not in the vocab");
    }
    // Keep the first (lowest) rank if a pair is listed twice, as Hugging Face does.
    merges_.emplace(PairKey(ia->second, ib->second),
                    (static_cast<uint64_t>(rank) << 32) | static_cast<uint32_t>(ic->second));
    if (IsBytePiece(a) || IsBytePiece(b)) chunking_ = false;  // chunk boundaries assume character symbols
    // Record every adjacent code point pair of the merge result.
    const std::string& c = ic->first;
    uint32_t prev = 0;
    bool have_prev = false;
    for (size_t i = 0; i < c.size();) {
      const size_t len = Utf8CharLen(c, i);
      const uint32_t cp = len ? Utf8Decode(c, i, len) : kInvalidByteCp + static_cast<uint8_t>(c[i]);
      if (have_prev) merge_bigrams_.insert(PairKey(prev, cp));
      prev = cp;
      have_prev = true;
      i += len ? len : 1;
    }
    ++rank;
  }
}

void HfBpe::LoadAddedTokens(const json& added) {
  if (!added.is_array()) Fail("\"added_tokens\" is not an array");
  for (const json& t : added) {
    if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("content") ||
        !t["content"].is_string()) {
      Fail("an added token lacks \"id\" or \"content\"");
    }
    const int64_t id = t["id"].get<int64_t>();
    if (id < 0 || id >= IdLimit()) Fail("added token id " + std::to_string(id) + " is out of range" + IdRangeNote());
    const std::string content = t["content"].get<std::string>();
    if (content.empty()) Fail("added token " + std::to_string(id) + " is empty");
    AddedTokenFlags flags;
    flags.special = t.value("special", false);
    flags.single_word = t.value("single_word", false);
    flags.lstrip = t.value("lstrip", false);
    flags.rstrip = t.value("rstrip", false);
    const bool normalized = t.value("normalized", !flags.special);
    if (static_cast<size_t>(id) >= pieces_.size()) {
      pieces_.resize(static_cast<size_t>(id) + 1);
      has_piece_.resize(pieces_.size(), 0);
    }
    pieces_[id] = content;
    has_piece_[id] = 1;
    added_[content] = static_cast<int32_t>(id);
    special_.resize(pieces_.size(), 0);
    is_added_.resize(pieces_.size(), 0);
    special_[id] = flags.special;
    is_added_[id] = 1;
    if (normalized) {
      added_tokens_.Add(AddedTokens::Set::kNormalized, normalizer_.Apply(content), static_cast<int32_t>(id), flags);
    } else {
      added_tokens_.Add(AddedTokens::Set::kRaw, content, static_cast<int32_t>(id), flags);
    }
  }
  special_.resize(pieces_.size(), 0);
  is_added_.resize(pieces_.size(), 0);
}

int32_t HfBpe::CharId(std::string_view ch) const {
  if (ch.size() == 1 && static_cast<uint8_t>(ch[0]) < 128) return ascii_ids_[static_cast<uint8_t>(ch[0])];
  auto it = vocab_.find(ch);
  return it == vocab_.end() ? -1 : it->second;
}

// BPE on one chunk: symbols in a linked list, candidate merges in a min-heap keyed (rank, position).
void HfBpe::EncodeChunk(std::string_view chunk, std::vector<int32_t>& out) const {
  struct Sym {
    int32_t id;
    int32_t prev, next;
    bool alive;
  };
  std::vector<Sym> syms;
  syms.reserve(chunk.size());
  bool last_unk = false;
  for (size_t i = 0; i < chunk.size();) {
    size_t len = Utf8CharLen(chunk, i);
    const bool valid = len != 0;
    if (!valid) len = 1;
    const std::string_view ch = chunk.substr(i, len);
    i += len;
    const int32_t id = valid ? CharId(ch) : -1;
    if (id >= 0) {
      syms.push_back({id, 0, 0, true});
      last_unk = false;
      continue;
    }
    if (byte_fallback_) {
      bool ok = true;
      for (char c : ch) ok = ok && byte_ids_[static_cast<uint8_t>(c)] >= 0;
      if (ok) {
        for (char c : ch) syms.push_back({byte_ids_[static_cast<uint8_t>(c)], 0, 0, true});
        last_unk = false;
        continue;
      }
    }
    if (!unk_id_) continue;  // no unk token: the character is dropped, as Hugging Face does
    if (fuse_unk_ && last_unk) continue;
    syms.push_back({*unk_id_, 0, 0, true});
    last_unk = true;
  }
  const int32_t n = static_cast<int32_t>(syms.size());
  for (int32_t i = 0; i < n; ++i) {
    syms[i].prev = i - 1;
    syms[i].next = i + 1 < n ? i + 1 : -1;
  }
  if (n > 1 && !merges_.empty()) {
    struct Cand {
      uint32_t rank;
      int32_t pos;
      int32_t new_id;
      bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::vector<Cand> heap_store;
    heap_store.reserve(static_cast<size_t>(n));
    std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap(std::greater<Cand>(), std::move(heap_store));
    const auto push = [&](int32_t pos) {
      const int32_t nx = syms[pos].next;
      if (nx < 0) return;
      auto it = merges_.find(PairKey(static_cast<uint32_t>(syms[pos].id), static_cast<uint32_t>(syms[nx].id)));
      if (it == merges_.end()) return;
      heap.push({static_cast<uint32_t>(it->second >> 32), pos, static_cast<int32_t>(it->second & 0xFFFFFFFFu)});
    };
    for (int32_t i = 0; i + 1 < n; ++i) push(i);
    while (!heap.empty()) {
      const Cand c = heap.top();
      heap.pop();
      Sym& s = syms[c.pos];
      if (!s.alive || s.next < 0) continue;
      const int32_t nx = s.next;
      auto it = merges_.find(PairKey(static_cast<uint32_t>(s.id), static_cast<uint32_t>(syms[nx].id)));
      if (it == merges_.end() || static_cast<int32_t>(it->second & 0xFFFFFFFFu) != c.new_id) continue;  // stale
      s.id = c.new_id;
      s.next = syms[nx].next;
      syms[nx].alive = false;
      if (s.next >= 0) syms[s.next].prev = c.pos;
      if (s.prev >= 0) push(s.prev);
      push(c.pos);
    }
  }
  for (int32_t i = n > 0 ? 0 : -1; i >= 0; i = syms[i].next) out.push_back(syms[i].id);
}

void HfBpe::EncodeWord(std::string_view word, Cache& cache, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    if (auto it = vocab_.find(word); it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  const auto emit = [&](std::string_view chunk) {
    constexpr size_t kMaxCached = 256;
    if (chunk.size() > kMaxCached) {
      EncodeChunk(chunk, out);
      return;
    }
    if (auto it = cache.spans.find(chunk); it != cache.spans.end()) {
      out.insert(out.end(), cache.ids.begin() + it->second.first,
                 cache.ids.begin() + it->second.first + it->second.second);
      return;
    }
    const size_t begin = out.size();
    EncodeChunk(chunk, out);
    cache.spans.emplace(
        chunk, std::make_pair(static_cast<uint32_t>(cache.ids.size()), static_cast<uint32_t>(out.size() - begin)));
    cache.ids.insert(cache.ids.end(), out.begin() + static_cast<std::ptrdiff_t>(begin), out.end());
  };
  if (!chunking_) {
    EncodeChunk(word, out);
    return;
  }
  size_t start = 0;
  uint32_t prev = 0;
  for (size_t i = 0; i < word.size();) {
    const size_t len = Utf8CharLen(word, i);
    const uint32_t cp = len ? Utf8Decode(word, i, len) : kInvalidByteCp + static_cast<uint8_t>(word[i]);
    if (i > 0 && !merge_bigrams_.contains(PairKey(prev, cp))) {
      emit(word.substr(start, i - start));
      start = i;
    }
    prev = cp;
    i += len ? len : 1;
  }
  emit(word.substr(start));
}

void HfBpe::EncodeSection(std::string_view raw, bool skip_special, Cache& cache, std::vector<int32_t>& out) const {
  const std::string& normalized = cache.texts.emplace_back(normalizer_.Apply(raw));
  for (const Segment& seg : added_tokens_.Split(AddedTokens::Set::kNormalized, normalized, skip_special)) {
    if (seg.id >= 0) {
      out.push_back(seg.id);
      continue;
    }
    pre_tokenizer_.ForEachWord(seg.text, [&](std::string_view w) { EncodeWord(w, cache, out); });
  }
}

std::vector<int32_t> HfBpe::Encode(std::string_view text, SpecialTokens mode) const {
  const bool skip_special = mode == SpecialTokens::kAsText;
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  Cache cache;
  for (const Segment& seg : added_tokens_.Split(AddedTokens::Set::kRaw, text, skip_special)) {
    if (seg.id >= 0) {
      out.push_back(seg.id);
    } else {
      EncodeSection(seg.text, skip_special, cache, out);
    }
  }
  return out;
}

std::string HfBpe::Decode(std::span<const int32_t> ids) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const int32_t id : ids) {
    if (id < 0 || id >= static_cast<int32_t>(pieces_.size()) || !has_piece_[id]) continue;
    tokens.push_back(pieces_[id]);
  }
  return decoder_.Apply(std::move(tokens));
}

}  // namespace

std::shared_ptr<const Backend> LoadHfBpe(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TokenizerError("tokenizer: cannot open '" + path + "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  json root;
  try {
    root = json::parse(buf.str());
  } catch (const json::parse_error& e) {
    throw TokenizerError("tokenizer: '" + path + "' is not valid JSON (parse error at byte " + std::to_string(e.byte) +
                         ")");
  }
  return LoadHfBpeJson(path, root);
}

std::shared_ptr<const Backend> LoadHfBpeJson(const std::string& path, const json& root) {
  try {
    return std::make_shared<const HfBpe>(path, root);
  } catch (const json::exception& e) {
    // A field of the wrong JSON type somewhere we did not check by hand.
    throw TokenizerError("tokenizer: '" + path + "': malformed (" + std::string(e.what()) + ")");
  }
}

}  // namespace vkg::tok::detail
