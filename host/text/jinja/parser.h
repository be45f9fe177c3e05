// vkg::jinja parser: tokens -> statement tree. Unknown filters and tests, unknown or unclosed
// tags and syntax errors throw jinja::Error naming the line.
#pragma once
#include <vector>

#include "host/text/jinja/ast.h"
#include "host/text/jinja/lexer.h"

namespace vkg::jinja {

Body Parse(const std::vector<Token>& tokens);

}  // namespace vkg::jinja
