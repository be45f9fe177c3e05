// vkg::jinja syntax tree: expressions and statements produced by the parser.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "host/text/jinja/value.h"

namespace vkg::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind {
  Literal,  // value
  Name,     // name
  List,     // kids: items (tuples are lists too)
  Dict,     // kids: key0, value0, key1, value1, ...
  Attr,     // kids[0].name
  Index,    // kids[0][kids[1]]
  Slice,    // kids[0][kids[1]:kids[2]:kids[3]] (null kids for omitted parts)
  Call,     // kids[0](kids[1..]); arg_names[i] names kids[i + 1] ("" = positional)
  Filter,   // kids[0] | name(kids[1..]); arg_names as for Call
  Test,     // kids[0] is [not] name(kids[1..]); negate
  Unary,    // name ("-", "+", "not") kids[0]
  Binary,   // kids[0] name kids[1]: arithmetic, comparisons, "in", "not in", "~"
  And,      // kids[0] and kids[1]
  Or,       // kids[0] or kids[1]
  Cond,     // kids[0] if kids[1] else kids[2] (kids[2] may be null)
};

struct Expr {
  ExprKind kind;
  int line = 0;
  std::string name;
  Value value;
  bool negate = false;
  std::vector<ExprPtr> kids;
  std::vector<std::string> arg_names;
  int depth = 1;  // levels of this tree (the parser bounds it)
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class StmtKind {
  Text,    // text
  Output,  // {{ expr }}
  If,      // branches (condition, body); else_body
  For,     // targets in expr [if expr2]: body, else_body
  Set,     // targets = expr; or target.attr = expr (attr non-empty); or block form (expr null, body)
  Macro,   // name(params = defaults): body
  Break,
  Continue,
  Do,     // expr evaluated, result dropped
  Block,  // body rendered as is ({% generation %} ... {% endgeneration %})
};

struct Stmt {
  StmtKind kind;
  int line = 0;
  std::string text;  // Text: the text; Macro: its name; Set with attribute: the attribute
  ExprPtr expr, expr2;
  std::vector<std::string> targets;  // For/Set variable names; Macro parameter names
  std::vector<ExprPtr> defaults;     // Macro parameter defaults (null = none)
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body, else_body;
};

}  // namespace vkg::jinja
