// Added-token matching with Hugging Face tokenizers' rules (see added_tokens.h).
#include "tokenizer/added_tokens.h"

#include <locale.h>
#include <wctype.h>

#include <algorithm>

#include "tokenizer/backend.h"

namespace vkg::tok::detail {
namespace {

// Unicode White_Space: what Hugging Face's lstrip/rstrip remove (the Rust regex \s).
bool IsSpace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// The Rust regex \w that single_word tests: alphabetic, marks, decimal digits, connector
// punctuation, joiners. Letters and digits come from the C library's Unicode tables (C.UTF-8,
// built into glibc); it classes most combining marks as punctuation, so the combining blocks
// are listed here. Marks outside those blocks that glibc does not call alphabetic are missed.
bool IsWordChar(uint32_t cp) {
  if (cp < 0x80) {
    return (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || cp == '_';
  }
  if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) || (cp >= 0x1DC0 && cp <= 0x1DFF) ||
      (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE20 && cp <= 0xFE2F)) {
    return true;  // combining marks
  }
  if (cp == 0x200C || cp == 0x200D || cp == 0x203F || cp == 0x2040 || cp == 0x2054 || cp == 0xFE33 || cp == 0xFE34 ||
      (cp >= 0xFE4D && cp <= 0xFE4F) || cp == 0xFF3F) {
    return true;  // joiners and connector punctuation
  }
  static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return utf8 != static_cast<locale_t>(nullptr) && iswalnum_l(static_cast<wint_t>(cp), utf8) != 0;
}

// The character ending at s.size() (s is valid UTF-8 up to there, or the last byte stands alone).
uint32_t LastChar(std::string_view s, size_t* len) {
  for (size_t back = 1; back <= 4 && back <= s.size(); ++back) {
    const size_t at = s.size() - back;
    if ((static_cast<uint8_t>(s[at]) & 0xC0) == 0x80) continue;  // continuation byte: look further back
    const size_t n = Utf8CharLen(s, at);
    if (n == back) {
      *len = n;
      return Utf8Decode(s, at, n);
    }
    break;
  }
  *len = 1;
  return 0xFFFD;  // an invalid byte: neither space nor word character
}

uint32_t FirstChar(std::string_view s, size_t* len) {
  const size_t n = Utf8CharLen(s, 0);
  *len = n ? n : 1;
  return n ? Utf8Decode(s, 0, n) : 0xFFFD;
}

}  // namespace

size_t TrailingSpaceBytes(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t len;
    if (!IsSpace(LastChar(s.substr(0, end), &len))) break;
    end -= len;
  }
  return s.size() - end;
}

size_t LeadingSpaceBytes(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    size_t len;
    if (!IsSpace(FirstChar(s.substr(pos), &len))) break;
    pos += len;
  }
  return pos;
}

bool EndsWithWordChar(std::string_view s) {
  size_t len;
  return !s.empty() && IsWordChar(LastChar(s, &len));
}

bool StartsWithWordChar(std::string_view s) {
  size_t len;
  return !s.empty() && IsWordChar(FirstChar(s, &len));
}

void AddedTokens::Add(Set set, std::string_view pattern, int32_t id, const AddedTokenFlags& flags) {
  (set == Set::kRaw ? raw_ : normalized_).Insert(pattern, id);
  flags_.emplace(id, flags);
}

// Hugging Face's AddedVocabulary::find_matches, step by step: the search goes on from the end of
// each match (not from the end of the whitespace rstrip swallows), a dropped match still consumes
// its text, and lstrip never reaches back into what an earlier match took.
std::vector<Segment> AddedTokens::Split(Set set, std::string_view text, bool skip_special) const {
  const TokenTrie& t = trie(set);
  std::vector<Segment> out;
  if (t.empty()) {
    out.push_back({text, -1});
    return out;
  }
  size_t taken = 0;  // text before this is in `out`
  for (size_t pos = 0; pos < text.size();) {
    const auto [id, len] = t.LongestAt(text, pos);
    if (id < 0) {
      ++pos;
      continue;
    }
    const size_t match_begin = pos, match_end = pos + len;
    pos = match_end;
    const AddedTokenFlags& f = flags_.at(id);
    if (skip_special && f.special) continue;
    if (f.single_word &&
        (EndsWithWordChar(text.substr(0, match_begin)) || StartsWithWordChar(text.substr(match_end)))) {
      continue;
    }
    size_t begin = match_begin, end = match_end;
    if (f.lstrip) begin = std::max(taken, begin - TrailingSpaceBytes(text.substr(0, begin)));
    if (f.rstrip) end += LeadingSpaceBytes(text.substr(end));
    if (taken < begin) out.push_back({text.substr(taken, begin - taken), -1});
    out.push_back({text.substr(begin, end - begin), id});
    taken = end;
  }
  if (taken < text.size() || out.empty()) out.push_back({text.substr(std::min(taken, text.size())), -1});
  return out;
}

}  // namespace vkg::tok::detail
