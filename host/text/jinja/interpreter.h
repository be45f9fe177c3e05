// vkg::jinja interpreter: runs a parsed template against a context dict.
#pragma once
#include <string>

#include "host/text/jinja/ast.h"
#include "host/text/jinja/value.h"

namespace vkg::jinja {

struct Rendered {
  std::string text;
  std::string taint;  // empty (nothing tainted) or one byte per text byte, 1 = from a tainted string
};

// `context` must be a dict (its entries become the template's global variables).
Rendered Execute(const Body& body, const Value& context);

}  // namespace vkg::jinja
