#include "host/text/jinja/strings.h"

#include <cctype>

namespace vkg::jinja {
namespace {

bool IsPySpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

}  // namespace

std::vector<size_t> CharOffsets(const std::string& s) {
  std::vector<size_t> offsets;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) offsets.push_back(i);
  }
  offsets.push_back(s.size());
  return offsets;
}

std::vector<Value> Chars(const Value& s) {
  const std::vector<size_t> off = CharOffsets(s.str());
  std::vector<Value> out;
  for (size_t i = 0; i + 1 < off.size(); ++i) out.push_back(Substr(s, off[i], off[i + 1] - off[i]));
  return out;
}

size_t CharCount(const std::string& s) { return CharOffsets(s).size() - 1; }

Value Strip(const Value& s, const Value* chars, bool left, bool right) {
  const std::string& t = s.str();
  const bool ws = !chars || chars->is_none() || chars->is_undefined();
  const std::string set = ws ? std::string() : chars->str();
  const auto strip_char = [&](char c) { return ws ? IsPySpace(c) : set.find(c) != std::string::npos; };
  size_t b = 0, e = t.size();
  if (left) {
    while (b < e && strip_char(t[b])) ++b;
  }
  if (right) {
    while (e > b && strip_char(t[e - 1])) --e;
  }
  return Substr(s, b, e - b);
}

std::vector<Value> Split(const Value& s, const Value* sep, int64_t maxsplit) {
  const std::string& t = s.str();
  std::vector<Value> out;
  if (!sep || sep->is_none() || sep->is_undefined()) {  // runs of whitespace, no empty pieces
    size_t i = 0;
    while (true) {
      while (i < t.size() && IsPySpace(t[i])) ++i;
      if (i >= t.size()) break;
      if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
        size_t e = t.size();
        while (e > i && IsPySpace(t[e - 1])) --e;
        out.push_back(Substr(s, i, e - i));
        break;
      }
      size_t j = i;
      while (j < t.size() && !IsPySpace(t[j])) ++j;
      out.push_back(Substr(s, i, j - i));
      i = j;
    }
    return out;
  }
  const std::string& d = sep->str();
  size_t start = 0;
  while (!d.empty()) {
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) break;
    const size_t hit = t.find(d, start);
    if (hit == std::string::npos) break;
    out.push_back(Substr(s, start, hit - start));
    start = hit + d.size();
  }
  out.push_back(Substr(s, start));
  return out;
}

Value Replace(const Value& s, const std::string& from, const Value& to, int64_t count) {
  const std::string& t = s.str();
  StrBuilder sb;
  size_t start = 0;
  int64_t done = 0;
  if (from.empty()) {  // Python inserts `to` between characters
    const std::vector<size_t> off = CharOffsets(t);
    for (size_t i = 0; i + 1 < off.size(); ++i) {
      if (count < 0 || done < count) {
        sb.Add(to);
        ++done;
      }
      sb.Add(Substr(s, off[i], off[i + 1] - off[i]));
    }
    if (count < 0 || done < count) sb.Add(to);
    return sb.Take();
  }
  while (count < 0 || done < count) {
    const size_t hit = t.find(from, start);
    if (hit == std::string::npos) break;
    sb.Add(Substr(s, start, hit - start));
    sb.Add(to);
    start = hit + from.size();
    ++done;
  }
  sb.Add(Substr(s, start));
  return sb.Take();
}

Value ChangeCase(const Value& s, Case c) {
  std::string t = s.str();
  bool word_start = true;
  for (size_t i = 0; i < t.size(); ++i) {
    const auto ch = static_cast<unsigned char>(t[i]);
    const bool alpha = std::isalpha(ch) != 0;
    switch (c) {
      case Case::Upper: t[i] = static_cast<char>(std::toupper(ch)); break;
      case Case::Lower: t[i] = static_cast<char>(std::tolower(ch)); break;
      case Case::Title:
        t[i] = static_cast<char>(word_start ? std::toupper(ch) : std::tolower(ch));
        word_start = !alpha && ch < 0x80;
        break;
      case Case::Capitalize: t[i] = static_cast<char>(i == 0 ? std::toupper(ch) : std::tolower(ch)); break;
    }
  }
  return Value(std::move(t), s.taint());
}

}  // namespace vkg::jinja
