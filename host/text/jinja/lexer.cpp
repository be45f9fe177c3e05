#include "host/text/jinja/lexer.h"

#include <cctype>

#include "host/text/jinja/error.h"

namespace vkg::jinja {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

class Lexer {
 public:
  Lexer(std::string_view src, const LexOptions& opt) : src_(src), opt_(opt) {}

  std::vector<Token> Run() {
    char prev_kind = 0;  // kind of the previous tag: '{', '%', '#'
    char prev_flag = 0;  // '-', '+' or 0 before its closing delimiter
    while (pos_ <= src_.size()) {
      const size_t start = FindTagStart(pos_);
      const size_t text_end = start == std::string_view::npos ? src_.size() : start;
      const char kind = start == std::string_view::npos ? 0 : src_[start + 1];
      char flag = 0;
      if (kind && start + 2 < src_.size() && (src_[start + 2] == '-' || src_[start + 2] == '+')) flag = src_[start + 2];
      EmitText(pos_, text_end, prev_kind, prev_flag, kind, flag);
      if (!kind) break;
      Advance(start + 2 + (flag ? 1 : 0));
      const int tag_line = line_;
      if (kind == '#') {
        const size_t end = src_.find("#}", pos_);
        if (end == std::string_view::npos) throw Error(tag_line, "unterminated comment");
        prev_flag = (end > pos_ && (src_[end - 1] == '-' || src_[end - 1] == '+')) ? src_[end - 1] : 0;
        Advance(end + 2);
      } else {
        Push(kind == '{' ? Tok::VarBegin : Tok::BlockBegin, "", tag_line);
        prev_flag = LexTag(kind, tag_line);
      }
      prev_kind = kind;
    }
    Push(Tok::End, "", line_);
    return std::move(out_);
  }

 private:
  size_t FindTagStart(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string_view::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string_view::npos;
  }

  void Advance(size_t to) {
    for (; pos_ < to && pos_ < src_.size(); ++pos_) {
      if (src_[pos_] == '\n') ++line_;
    }
    pos_ = to;
  }

  void Push(Tok kind, std::string text, int line) { out_.push_back(Token{kind, std::move(text), line}); }

  // Text in [begin, end) after a tag (prev_kind/prev_flag) and before one (kind/flag).
  void EmitText(size_t begin, size_t end, char prev_kind, char prev_flag, char kind, char flag) {
    std::string_view text = src_.substr(begin, end - begin);
    size_t left = 0, right = text.size();
    if (prev_flag == '-') {
      while (left < text.size() && IsSpace(text[left])) ++left;
    } else if ((prev_kind == '%' || prev_kind == '#') && opt_.trim_blocks && prev_flag != '+') {
      if (text.substr(0, 1) == "\n")
        left = 1;
      else if (text.substr(0, 2) == "\r\n")
        left = 2;
    }
    if (flag == '-') {
      while (right > 0 && IsSpace(text[right - 1])) --right;
    } else if ((kind == '%' || kind == '#') && opt_.lstrip_blocks && flag != '+') {
      const size_t nl = text.rfind('\n');
      const size_t tail = nl == std::string_view::npos ? 0 : nl + 1;
      const bool line_start = nl != std::string_view::npos || begin == 0 || src_[begin - 1] == '\n';
      bool blank = true;
      for (size_t i = tail; i < text.size(); ++i) blank = blank && (text[i] == ' ' || text[i] == '\t');
      if (line_start && blank) right = tail;
    }
    const int line = line_;
    Advance(end);
    if (right > left) Push(Tok::Text, std::string(text.substr(left, right - left)), line);
  }

  // Tokens of one {{ }} or {% %} tag; returns the flag before its closing delimiter.
  char LexTag(char kind, int tag_line) {
    const char close = kind == '{' ? '}' : '%';
    int depth = 0;  // open ( [ { inside the tag
    while (true) {
      while (pos_ < src_.size() && IsSpace(src_[pos_])) Advance(pos_ + 1);
      if (pos_ >= src_.size()) {
        throw Error(tag_line, kind == '{' ? "unterminated '{{' tag" : "unterminated '{%' tag");
      }
      const std::string_view rest = src_.substr(pos_);
      for (char f : {'-', '+', '\0'}) {
        const std::string end = (f ? std::string(1, f) : std::string()) + close + '}';
        if (rest.substr(0, end.size()) == end && (depth == 0 || kind == '%')) {
          Push(kind == '{' ? Tok::VarEnd : Tok::BlockEnd, "", line_);
          Advance(pos_ + end.size());
          return f;
        }
      }
      const char c = rest[0];
      const int line = line_;
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t n = 1;
        while (n < rest.size() && (std::isalnum(static_cast<unsigned char>(rest[n])) || rest[n] == '_')) ++n;
        Push(Tok::Name, std::string(rest.substr(0, n)), line);
        Advance(pos_ + n);
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        LexNumber(rest, line);
      } else if (c == '\'' || c == '"') {
        LexString(rest, line);
      } else {
        static const char* kTwo[] = {"==", "!=", "<=", ">=", "//", "**"};
        std::string op(1, c);
        for (const char* two : kTwo) {
          if (rest.substr(0, 2) == two) op = two;
        }
        if (op.size() == 1 && std::string_view("+-*/%~<>=.,:()[]{}|").find(c) == std::string_view::npos) {
          throw Error(line, std::string("unexpected character '") + c + "' in tag");
        }
        if (c == '(' || c == '[' || c == '{') ++depth;
        if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
        Push(Tok::Op, op, line);
        Advance(pos_ + op.size());
      }
    }
  }

  void LexNumber(std::string_view rest, int line) {
    size_t n = 0;
    while (n < rest.size() && (std::isdigit(static_cast<unsigned char>(rest[n])) || rest[n] == '_')) ++n;
    bool is_float = false;
    if (n + 1 < rest.size() && rest[n] == '.' && std::isdigit(static_cast<unsigned char>(rest[n + 1]))) {
      is_float = true;
      ++n;
      while (n < rest.size() && std::isdigit(static_cast<unsigned char>(rest[n]))) ++n;
    }
    if (n < rest.size() && (rest[n] == 'e' || rest[n] == 'E')) {
      size_t m = n + 1;
      if (m < rest.size() && (rest[m] == '+' || rest[m] == '-')) ++m;
      if (m < rest.size() && std::isdigit(static_cast<unsigned char>(rest[m]))) {
        is_float = true;
        while (m < rest.size() && std::isdigit(static_cast<unsigned char>(rest[m]))) ++m;
        n = m;
      }
    }
    std::string spelling;
    for (char ch : rest.substr(0, n)) {
      if (ch != '_') spelling += ch;
    }
    Token t{is_float ? Tok::Float : Tok::Int, spelling, line};
    if (is_float)
      t.float_value = std::stod(spelling);
    else
      t.int_value = std::stoll(spelling);
    out_.push_back(std::move(t));
    Advance(pos_ + n);
  }

  static void AppendUtf8(std::string& s, uint32_t cp) {
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      s += static_cast<char>(0xE0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      s += static_cast<char>(0xF0 | (cp >> 18));
      s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  void LexString(std::string_view rest, int line) {
    const char quote = rest[0];
    std::string value;
    size_t i = 1;
    for (;; ++i) {
      if (i >= rest.size()) throw Error(line, "unterminated string literal");
      const char c = rest[i];
      if (c == quote) break;
      if (c != '\\' || i + 1 >= rest.size()) {
        value += c;
        continue;
      }
      const char e = rest[++i];
      switch (e) {
        case 'n': value += '\n'; break;
        case 't': value += '\t'; break;
        case 'r': value += '\r'; break;
        case '0': value += '\0'; break;
        case '\\':
        case '\'':
        case '"': value += e; break;
        case '\n': break;  // line continuation
        case 'x':
        case 'u':
        case 'U': {
          const size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (i + digits >= rest.size()) throw Error(line, "bad escape in string literal");
          const std::string hex(rest.substr(i + 1, digits));
          if (hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
            throw Error(line, "bad escape in string literal");
          }
          AppendUtf8(value, static_cast<uint32_t>(std::stoul(hex, nullptr, 16)));
          i += digits;
          break;
        }
        default: value += '\\'; value += e;
      }
    }
    Push(Tok::String, std::move(value), line);
    Advance(pos_ + i + 1);
  }

  std::string_view src_;
  LexOptions opt_;
  size_t pos_ = 0;
  int line_ = 1;
  std::vector<Token> out_;
};

}  // namespace

std::vector<Token> Lex(std::string_view source, const LexOptions& options) { return Lexer(source, options).Run(); }

}  // namespace vkg::jinja
