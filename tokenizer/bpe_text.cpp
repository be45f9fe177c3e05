#include "tokenizer/bpe_text.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "tokenizer/backend.h"
#include "tokenizer/tokenizer.h"

namespace vkg::tok::detail {

using json = nlohmann::json;

namespace {

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  std::string out;
  size_t pos = 0;
  for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out.append(to);
  }
  if (pos == 0) return;
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

// {"String": "x"} -> "x"; a Regex pattern is reported as unsupported.
bool StringPattern(const json& j, const std::string& where, std::string* out, std::string* err) {
  if (j.is_object() && j.contains("String") && j["String"].is_string()) {
    *out = j["String"].get<std::string>();
    return true;
  }
  *err = where + " pattern is not {\"String\": ...} (Regex patterns are not supported)";
  return false;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool IsBytePiece(std::string_view p, uint8_t* byte) {
  if (p.size() != 6 || p.substr(0, 3) != "<0x" || p[5] != '>') return false;
  const int hi = HexDigit(p[3]), lo = HexDigit(p[4]);
  if (hi < 0 || lo < 0) return false;
  if (byte) *byte = static_cast<uint8_t>(hi * 16 + lo);
  return true;
}

// ---- TokenTrie ------------------------------------------------------------------------------

int32_t TokenTrie::Child(int32_t node, uint8_t b) const {
  const auto& kids = nodes_[node].kids;
  auto it = std::lower_bound(kids.begin(), kids.end(), std::make_pair(b, int32_t{-1}));
  return it != kids.end() && it->first == b ? it->second : -1;
}

void TokenTrie::Insert(std::string_view s, int32_t id) {
  if (s.empty()) return;
  starts_[static_cast<uint8_t>(s[0])] = true;
  int32_t node = 0;
  for (char c : s) {
    const auto b = static_cast<uint8_t>(c);
    int32_t next = Child(node, b);
    if (next < 0) {
      next = static_cast<int32_t>(nodes_.size());
      nodes_.push_back(Node{});
      auto& kids = nodes_[node].kids;
      kids.insert(std::lower_bound(kids.begin(), kids.end(), std::make_pair(b, int32_t{-1})), {b, next});
    }
    node = next;
  }
  if (nodes_[node].id < 0) nodes_[node].id = id;  // first definition wins
}

std::pair<int32_t, size_t> TokenTrie::LongestAt(std::string_view text, size_t pos) const {
  if (pos >= text.size() || !starts_[static_cast<uint8_t>(text[pos])]) return {-1, 0};
  int32_t node = 0, best_id = -1;
  size_t best_len = 0;
  for (size_t j = pos; j < text.size(); ++j) {
    node = Child(node, static_cast<uint8_t>(text[j]));
    if (node < 0) break;
    if (nodes_[node].id >= 0) {
      best_id = nodes_[node].id;
      best_len = j + 1 - pos;
    }
  }
  return {best_id, best_len};
}

// ---- Normalizer -----------------------------------------------------------------------------

bool Normalizer::Parse(const json& j, std::string* err) {
  if (j.is_null()) return true;
  const std::string type = j.is_object() ? j.value("type", std::string()) : std::string();
  if (type == "Sequence" && j.contains("normalizers") && j["normalizers"].is_array()) {
    for (const json& n : j["normalizers"]) {
      if (!Parse(n, err)) return false;
    }
    return true;
  }
  if (type == "Replace") {
    Step s{false, {}, j.value("content", std::string())};
    if (!StringPattern(j.value("pattern", json()), "normalizer Replace", &s.from, err)) return false;
    steps_.push_back(std::move(s));
    return true;
  }
  if (type == "Prepend") {
    steps_.push_back({true, {}, j.value("prepend", std::string())});
    return true;
  }
  *err = "normalizer type \"" + type + "\" is not supported";
  return false;
}

std::string Normalizer::Apply(std::string_view in) const {
  std::string s(in);
  for (const Step& st : steps_) {
    if (st.prepend) {
      if (!s.empty()) s.insert(0, st.to);  // Hugging Face prepends only to non-empty strings
    } else {
      ReplaceAll(s, st.from, st.to);
    }
  }
  return s;
}

// ---- PreTokenizer ---------------------------------------------------------------------------

bool PreTokenizer::Parse(const json& j, std::string* err) {
  if (j.is_null()) return true;
  const std::string type = j.is_object() ? j.value("type", std::string()) : std::string();
  if (type != "Split") {
    *err = "pre_tokenizer type \"" + type + "\" is not supported";
    return false;
  }
  if (!StringPattern(j.value("pattern", json()), "pre_tokenizer Split", &pattern_, err)) return false;
  if (j.value("invert", false)) {
    *err = "pre_tokenizer Split with invert=true is not supported";
    return false;
  }
  behavior_ = j.value("behavior", std::string("Removed"));
  static const char* kKnown[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"};
  if (std::find(std::begin(kKnown), std::end(kKnown), behavior_) == std::end(kKnown)) {
    *err = "pre_tokenizer Split behavior \"" + behavior_ + "\" is not supported";
    return false;
  }
  split_ = true;
  return true;
}

// Split on every occurrence of the pattern; what happens to the matches follows the behaviour
// names of Hugging Face tokenizers' SplitDelimiterBehavior.
void PreTokenizer::ForEachWord(std::string_view s, const std::function<void(std::string_view)>& fn) const {
  if (!split_ || pattern_.empty() || s.find(pattern_) == std::string_view::npos) {
    if (!s.empty()) fn(s);
    return;
  }
  struct Part {
    size_t begin, end;
    bool match;
  };
  std::vector<Part> parts;  // alternating gaps and single matches, covering s
  size_t pos = 0;
  for (size_t hit; (hit = s.find(pattern_, pos)) != std::string_view::npos; pos = hit + pattern_.size()) {
    if (hit > pos) parts.push_back({pos, hit, false});
    parts.push_back({hit, hit + pattern_.size(), true});
  }
  if (pos < s.size()) parts.push_back({pos, s.size(), false});

  std::vector<Part> words;
  bool prev_match = false;
  if (behavior_ == "MergedWithNext") {
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
      if (it->match && !prev_match && !words.empty()) {
        words.back().begin = it->begin;
      } else {
        words.push_back({it->begin, it->end, false});
      }
      prev_match = it->match;
    }
    std::reverse(words.begin(), words.end());
  } else {
    for (const Part& p : parts) {
      if (behavior_ == "Removed") {
        if (!p.match) words.push_back(p);
      } else if (behavior_ == "Isolated") {
        words.push_back(p);
      } else if (behavior_ == "MergedWithPrevious") {
        if (p.match && !prev_match && !words.empty()) {
          words.back().end = p.end;
        } else {
          words.push_back(p);
        }
      } else {  // Contiguous
        if (p.match == prev_match && !words.empty()) {
          words.back().end = p.end;
        } else {
          words.push_back(p);
        }
      }
      prev_match = p.match;
    }
  }
  for (const Part& w : words) {
    if (w.end > w.begin) fn(s.substr(w.begin, w.end - w.begin));
  }
}

// ---- DecoderChain ---------------------------------------------------------------------------

bool DecoderChain::ParseOne(const json& j, std::string* err) {
  const std::string type = j.is_object() ? j.value("type", std::string()) : std::string();
  if (type == "Sequence" && j.contains("decoders") && j["decoders"].is_array()) {
    for (const json& d : j["decoders"]) {
      if (!ParseOne(d, err)) return false;
    }
    return true;
  }
  Step s{};
  if (type == "Replace") {
    s.kind = Kind::kReplace;
    if (!StringPattern(j.value("pattern", json()), "decoder Replace", &s.from, err)) return false;
    s.to = j.value("content", std::string());
  } else if (type == "ByteFallback") {
    s.kind = Kind::kByteFallback;
  } else if (type == "Fuse") {
    s.kind = Kind::kFuse;
  } else if (type == "Strip") {
    s.kind = Kind::kStrip;
    s.from = j.value("content", std::string(" "));
    s.start = j.value("start", 0);
    s.stop = j.value("stop", 0);
  } else {
    *err = "decoder type \"" + type + "\" is not supported";
    return false;
  }
  steps_.push_back(std::move(s));
  return true;
}

bool DecoderChain::Parse(const json& j, std::string* err) {
  if (j.is_null()) return true;
  null_ = false;
  return ParseOne(j, err);
}

std::string DecoderChain::Apply(std::vector<std::string> tokens) const {
  std::string out;
  if (null_) {  // no decoder: Hugging Face joins the tokens with spaces
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i) out += ' ';
      out += tokens[i];
    }
    return out;
  }
  for (const Step& st : steps_) {
    switch (st.kind) {
      case Kind::kReplace:
        for (std::string& t : tokens) ReplaceAll(t, st.from, st.to);
        break;
      case Kind::kByteFallback: {
        // Runs of <0xNN> pieces become their bytes if those are valid UTF-8, else one U+FFFD per byte.
        std::vector<std::string> next;
        std::string bytes;
        size_t count = 0;
        const auto flush = [&] {
          if (count == 0) return;
          if (IsValidUtf8(bytes)) {
            next.push_back(bytes);
          } else {
            for (size_t k = 0; k < count; ++k) next.emplace_back("\xEF\xBF\xBD");
          }
          bytes.clear();
          count = 0;
        };
        for (std::string& t : tokens) {
          uint8_t b;
          if (IsBytePiece(t, &b)) {
            bytes.push_back(static_cast<char>(b));
            ++count;
          } else {
            flush();
            next.push_back(std::move(t));
          }
        }
        flush();
        tokens = std::move(next);
        break;
      }
      case Kind::kFuse: {
        std::string all;
        for (const std::string& t : tokens) all += t;
        tokens.assign(1, std::move(all));
        break;
      }
      case Kind::kStrip:
        for (std::string& t : tokens) {
          if (st.from.empty()) break;
          size_t b = 0, e = t.size();
          for (int k = 0; k < st.start && t.compare(b, st.from.size(), st.from) == 0 && b < e; ++k) b += st.from.size();
          for (int k = 0;
               k < st.stop && e >= b + st.from.size() && t.compare(e - st.from.size(), st.from.size(), st.from) == 0;
               ++k) {
            e -= st.from.size();
          }
          t = t.substr(b, e - b);
        }
        break;
    }
  }
  for (const std::string& t : tokens) out += t;
  return out;
}

}  // namespace vkg::tok::detail
