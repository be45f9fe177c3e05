// vkg::jinja lexer: template source -> tokens. Text between tags becomes Text tokens with the
// whitespace control already applied ({%- -%} {{- -}} {#- -#}, trim_blocks, lstrip_blocks, and
// '+' to opt out); comments are dropped; tag contents become expression tokens.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vkg::jinja {

enum class Tok { Text, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, End };

struct Token {
  Tok kind;
  std::string text;  // Text, Name, String (unescaped), Op; number spelling
  int line = 1;
  int64_t int_value = 0;
  double float_value = 0;
};

struct LexOptions {
  bool trim_blocks = true;    // drop the first newline after a block tag or comment
  bool lstrip_blocks = true;  // drop spaces/tabs before a block tag or comment that starts a line
};

std::vector<Token> Lex(std::string_view source, const LexOptions& options);

}  // namespace vkg::jinja
