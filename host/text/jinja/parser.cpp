#include "host/text/jinja/parser.h"

#include <iterator>
#include <set>

#include "host/text/jinja/builtins.h"
#include "host/text/jinja/error.h"

namespace vkg::jinja {
namespace {

class Parser {
 public:
  explicit Parser(const std::vector<Token>& tokens) : t_(tokens) {}

  Body Run() {
    Body body;
    const std::string stop = ParseBody({}, body);
    if (!stop.empty()) throw Error(Peek().line, "unexpected '" + stop + "'");
    return body;
  }

 private:
  // ---- token helpers ----
  const Token& Peek(size_t ahead = 0) const {
    const size_t i = pos_ + ahead;
    return i < t_.size() ? t_[i] : t_.back();
  }
  const Token& Next() {
    const Token& tok = Peek();
    if (pos_ < t_.size() - 1) ++pos_;
    return tok;
  }
  bool IsOp(const char* op, size_t ahead = 0) const { return Peek(ahead).kind == Tok::Op && Peek(ahead).text == op; }
  bool IsName(const char* name, size_t ahead = 0) const {
    return Peek(ahead).kind == Tok::Name && Peek(ahead).text == name;
  }
  bool AcceptOp(const char* op) {
    if (!IsOp(op)) return false;
    Next();
    return true;
  }
  bool AcceptName(const char* name) {
    if (!IsName(name)) return false;
    Next();
    return true;
  }
  static std::string Describe(const Token& tok) {
    switch (tok.kind) {
      case Tok::VarEnd: return "'}}'";
      case Tok::BlockEnd: return "'%}'";
      case Tok::End: return "end of template";
      case Tok::String: return "string";
      default: return "'" + tok.text + "'";
    }
  }
  [[noreturn]] void Unexpected(const std::string& expected) const {
    throw Error(Peek().line, "expected " + expected + ", got " + Describe(Peek()));
  }
  void ExpectOp(const char* op) {
    if (!AcceptOp(op)) Unexpected(std::string("'") + op + "'");
  }
  std::string ExpectName() {
    if (Peek().kind != Tok::Name) Unexpected("a name");
    return Next().text;
  }
  void ExpectBlockEnd() {
    if (Peek().kind != Tok::BlockEnd) Unexpected("'%}'");
    Next();
  }

  // Appends a kid, keeping the tree's depth (the interpreter's recursion, and the destructor's)
  // within kMaxNesting: left-associative chains (a + b + c ..., x|f|g ..., a.b.c ...) deepen
  // the tree without nesting the source.
  void AddKid(Expr& parent, ExprPtr kid) {
    if (kid) {
      if (kid->depth + 1 > kMaxNesting) {
        throw Error(kid->line, "expressions or blocks nested deeper than " + std::to_string(kMaxNesting));
      }
      parent.depth = std::max(parent.depth, kid->depth + 1);
    }
    parent.kids.push_back(std::move(kid));
  }

  static ExprPtr Make(ExprKind kind, int line, std::string name = {}) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    e->name = std::move(name);
    return e;
  }
  static StmtPtr MakeStmt(StmtKind kind, int line) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->line = line;
    return s;
  }

  // ---- statements ----
  // Parses until a block tag whose keyword is in `stop` (consumed up to the keyword) or the end.
  std::string ParseBody(const std::set<std::string>& stop, Body& body) {
    const Nest nest(*this, Peek().line);
    while (true) {
      const Token& tok = Peek();
      switch (tok.kind) {
        case Tok::End: return "";
        case Tok::Text: {
          auto s = MakeStmt(StmtKind::Text, tok.line);
          s->text = Next().text;
          body.push_back(std::move(s));
          break;
        }
        case Tok::VarBegin: {
          Next();
          auto s = MakeStmt(StmtKind::Output, tok.line);
          s->expr = ParseExpr();
          if (Peek().kind != Tok::VarEnd) Unexpected("'}}'");
          Next();
          body.push_back(std::move(s));
          break;
        }
        case Tok::BlockBegin: {
          Next();
          if (Peek().kind != Tok::Name) Unexpected("a tag name");
          const std::string& keyword = Peek().text;
          if (stop.count(keyword)) {
            Next();
            return keyword;
          }
          body.push_back(ParseStatement());
          break;
        }
        default: Unexpected("text or a tag");
      }
    }
  }

  // Parses a block body that must end with one of `stop`; returns the keyword found.
  std::string ParseBlock(const std::string& tag, int line, const std::set<std::string>& stop, Body& body) {
    const std::string found = ParseBody(stop, body);
    if (found.empty()) {
      throw Error(line, "'" + tag + "' block is never closed (expected '" + *std::prev(stop.end()) + "')");
    }
    return found;
  }

  // Long by design: a flat dispatch on the statement keyword, one short branch per statement
  // (if, for, set, macro, ...), each reading its own syntax.
  StmtPtr ParseStatement() {
    const int line = Peek().line;
    const std::string keyword = Next().text;
    if (keyword == "if") {
      auto s = MakeStmt(StmtKind::If, line);
      std::string found = "elif";
      while (found == "elif") {
        ExprPtr cond = ParseExpr();
        ExpectBlockEnd();
        Body body;
        found = ParseBlock("if", line, {"elif", "else", "endif"}, body);
        s->branches.emplace_back(std::move(cond), std::move(body));
      }
      if (found == "else") {
        ExpectBlockEnd();
        ParseBlock("if", line, {"endif"}, s->else_body);
      }
      ExpectBlockEnd();
      return s;
    }
    if (keyword == "for") {
      auto s = MakeStmt(StmtKind::For, line);
      s->targets = ParseTargets();
      if (!AcceptName("in")) Unexpected("'in'");
      s->expr = ParseOr();
      if (AcceptName("if")) s->expr2 = ParseOr();
      if (IsName("recursive")) throw Error(line, "recursive for loops are not supported");
      ExpectBlockEnd();
      if (ParseBlock("for", line, {"else", "endfor"}, s->body) == "else") {
        ExpectBlockEnd();
        ParseBlock("for", line, {"endfor"}, s->else_body);
      }
      ExpectBlockEnd();
      return s;
    }
    if (keyword == "set") {
      auto s = MakeStmt(StmtKind::Set, line);
      s->targets = ParseTargets();
      if (s->targets.size() == 1 && AcceptOp(".")) s->text = ExpectName();
      if (Peek().kind == Tok::BlockEnd && s->text.empty() && s->targets.size() == 1) {
        Next();
        ParseBlock("set", line, {"endset"}, s->body);
      } else {
        ExpectOp("=");
        s->expr = ParseExpr();
        if (IsOp(",")) s->expr = ParseTupleRest(std::move(s->expr));
      }
      ExpectBlockEnd();
      return s;
    }
    if (keyword == "macro") {
      auto s = MakeStmt(StmtKind::Macro, line);
      s->text = ExpectName();
      ExpectOp("(");
      while (!AcceptOp(")")) {
        s->targets.push_back(ExpectName());
        s->defaults.push_back(AcceptOp("=") ? ParseExpr() : nullptr);
        if (!IsOp(")")) ExpectOp(",");
      }
      ExpectBlockEnd();
      ParseBlock("macro", line, {"endmacro"}, s->body);
      if (Peek().kind == Tok::Name) Next();  // {% endmacro name %}
      ExpectBlockEnd();
      return s;
    }
    if (keyword == "break" || keyword == "continue") {
      ExpectBlockEnd();
      return MakeStmt(keyword == "break" ? StmtKind::Break : StmtKind::Continue, line);
    }
    if (keyword == "do") {
      auto s = MakeStmt(StmtKind::Do, line);
      s->expr = ParseExpr();
      ExpectBlockEnd();
      return s;
    }
    if (keyword == "generation") {
      auto s = MakeStmt(StmtKind::Block, line);
      ExpectBlockEnd();
      ParseBlock("generation", line, {"endgeneration"}, s->body);
      ExpectBlockEnd();
      return s;
    }
    static const std::set<std::string> kEnds = {"elif",   "else",     "endif",        "endfor",
                                                "endset", "endmacro", "endgeneration"};
    if (kEnds.count(keyword)) throw Error(line, "unexpected '" + keyword + "'");
    throw Error(line, "unknown tag '" + keyword + "'");
  }

  std::vector<std::string> ParseTargets() {
    std::vector<std::string> names;
    const bool paren = AcceptOp("(");
    names.push_back(ExpectName());
    while (AcceptOp(",")) names.push_back(ExpectName());
    if (paren) ExpectOp(")");
    return names;
  }

  ExprPtr ParseTupleRest(ExprPtr first) {
    auto list = Make(ExprKind::List, first->line);
    AddKid(*list, std::move(first));
    while (AcceptOp(",")) AddKid(*list, ParseExpr());
    return list;
  }

  // Nesting (parentheses, brackets, blocks inside blocks) is bounded: the parser and the
  // interpreter recurse once per level, and a hostile template must not overflow the stack.
  static constexpr int kMaxNesting = 128;
  struct Nest {
    Parser& p;
    Nest(Parser& parser, int line) : p(parser) {
      if (++p.depth_ > kMaxNesting) {
        --p.depth_;
        throw Error(line, "expressions or blocks nested deeper than " + std::to_string(kMaxNesting));
      }
    }
    ~Nest() { --p.depth_; }
  };

  // ---- expressions, lowest precedence first ----
  ExprPtr ParseExpr() {
    const Nest nest(*this, Peek().line);
    ExprPtr e = ParseOr();
    while (IsName("if")) {
      auto c = Make(ExprKind::Cond, Next().line);
      AddKid(*c, std::move(e));
      AddKid(*c, ParseOr());
      AddKid(*c, AcceptName("else") ? ParseExpr() : nullptr);
      e = std::move(c);
    }
    return e;
  }

  ExprPtr Bin(ExprKind kind, const std::string& op, ExprPtr l, ExprPtr r, int line) {
    auto e = Make(kind, line, op);
    AddKid(*e, std::move(l));
    AddKid(*e, std::move(r));
    return e;
  }

  ExprPtr ParseOr() {
    ExprPtr e = ParseAnd();
    while (IsName("or")) {
      const int line = Next().line;
      e = Bin(ExprKind::Or, "or", std::move(e), ParseAnd(), line);
    }
    return e;
  }
  ExprPtr ParseAnd() {
    ExprPtr e = ParseNot();
    while (IsName("and")) {
      const int line = Next().line;
      e = Bin(ExprKind::And, "and", std::move(e), ParseNot(), line);
    }
    return e;
  }
  ExprPtr ParseNot() {
    if (IsName("not")) {
      const Nest nest(*this, Peek().line);
      auto e = Make(ExprKind::Unary, Next().line, "not");
      AddKid(*e, ParseNot());
      return e;
    }
    return ParseCompare();
  }
  ExprPtr ParseCompare() {
    ExprPtr e = ParseMath1();
    while (true) {
      std::string op;
      if (Peek().kind == Tok::Op && (Peek().text == "==" || Peek().text == "!=" || Peek().text == "<" ||
                                     Peek().text == "<=" || Peek().text == ">" || Peek().text == ">=")) {
        op = Peek().text;
      } else if (IsName("in")) {
        op = "in";
      } else if (IsName("not") && IsName("in", 1)) {
        Next();
        op = "not in";
      } else {
        return e;
      }
      const int line = Next().line;
      e = Bin(ExprKind::Binary, op, std::move(e), ParseMath1(), line);
    }
  }
  ExprPtr ParseMath1() {
    ExprPtr e = ParseConcat();
    while (IsOp("+") || IsOp("-")) {
      const Token& op = Next();
      e = Bin(ExprKind::Binary, op.text, std::move(e), ParseConcat(), op.line);
    }
    return e;
  }
  ExprPtr ParseConcat() {
    ExprPtr e = ParseMath2();
    while (IsOp("~")) {
      const int line = Next().line;
      e = Bin(ExprKind::Binary, "~", std::move(e), ParseMath2(), line);
    }
    return e;
  }
  ExprPtr ParseMath2() {
    ExprPtr e = ParsePow();
    while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
      const Token& op = Next();
      e = Bin(ExprKind::Binary, op.text, std::move(e), ParsePow(), op.line);
    }
    return e;
  }
  ExprPtr ParsePow() {
    ExprPtr e = ParseUnary();
    while (IsOp("**")) {
      const int line = Next().line;
      e = Bin(ExprKind::Binary, "**", std::move(e), ParseUnary(), line);
    }
    return e;
  }
  ExprPtr ParseUnary() {
    if (IsOp("-") || IsOp("+")) {
      const Nest nest(*this, Peek().line);
      const Token& op = Next();
      auto e = Make(ExprKind::Unary, op.line, op.text);
      AddKid(*e, ParseUnary());
      return ParseFilters(std::move(e));
    }
    return ParseFilters(ParsePostfix(ParsePrimary()));
  }

  void ParseCallArgs(Expr& call) {
    ExpectOp("(");
    while (!AcceptOp(")")) {
      if (Peek().kind == Tok::Name && IsOp("=", 1)) {
        call.arg_names.push_back(Next().text);
        Next();
      } else {
        call.arg_names.emplace_back();
      }
      AddKid(call, ParseExpr());
      if (!IsOp(")")) ExpectOp(",");
    }
  }

  ExprPtr ParseFilters(ExprPtr e) {
    while (true) {
      if (IsOp("|")) {
        Next();
        const int line = Peek().line;
        const std::string name = ExpectName();
        if (!IsKnownFilter(name)) throw Error(line, "unknown filter '" + name + "'");
        auto f = Make(ExprKind::Filter, line, name);
        AddKid(*f, std::move(e));
        if (IsOp("(")) ParseCallArgs(*f);
        e = std::move(f);
      } else if (IsName("is")) {
        const int line = Next().line;
        const bool negate = AcceptName("not");
        std::string name = ExpectName();
        if (!IsKnownTest(name)) throw Error(line, "unknown test '" + name + "'");
        auto t = Make(ExprKind::Test, line, name);
        t->negate = negate;
        AddKid(*t, std::move(e));
        if (IsOp("(")) {
          ParseCallArgs(*t);
        } else if (Peek().kind == Tok::Int || Peek().kind == Tok::Float || Peek().kind == Tok::String ||
                   (Peek().kind == Tok::Name && IsConstantName(Peek().text))) {
          AddKid(*t, ParsePrimary());
          t->arg_names.emplace_back();
        }
        e = std::move(t);
      } else {
        return e;
      }
    }
  }

  ExprPtr ParsePostfix(ExprPtr e) {
    while (true) {
      if (IsOp(".")) {
        const int line = Next().line;
        if (Peek().kind == Tok::Int) {
          auto idx = Make(ExprKind::Index, line);
          AddKid(*idx, std::move(e));
          AddKid(*idx, ParsePrimary());
          e = std::move(idx);
          continue;
        }
        auto a = Make(ExprKind::Attr, line, ExpectName());
        AddKid(*a, std::move(e));
        e = std::move(a);
      } else if (IsOp("[")) {
        const int line = Next().line;
        ExprPtr parts[3];
        int colons = 0;
        while (!IsOp("]")) {
          if (AcceptOp(":")) {
            if (++colons > 2) Unexpected("']'");
            continue;
          }
          if (parts[colons]) Unexpected("':' or ']'");
          parts[colons] = ParseExpr();
        }
        Next();
        if (colons == 0) {
          if (!parts[0]) throw Error(line, "empty subscript");
          auto idx = Make(ExprKind::Index, line);
          AddKid(*idx, std::move(e));
          AddKid(*idx, std::move(parts[0]));
          e = std::move(idx);
        } else {
          auto sl = Make(ExprKind::Slice, line);
          AddKid(*sl, std::move(e));
          for (auto& p : parts) AddKid(*sl, std::move(p));
          e = std::move(sl);
        }
      } else if (IsOp("(")) {
        auto call = Make(ExprKind::Call, Peek().line);
        AddKid(*call, std::move(e));
        ParseCallArgs(*call);
        e = std::move(call);
      } else {
        return e;
      }
    }
  }

  static bool IsConstantName(const std::string& n) {
    return n == "true" || n == "false" || n == "none" || n == "True" || n == "False" || n == "None";
  }

  ExprPtr ParsePrimary() {
    const Token& tok = Peek();
    const int line = tok.line;
    switch (tok.kind) {
      case Tok::Name: {
        Next();
        if (IsConstantName(tok.text)) {
          auto lit = Make(ExprKind::Literal, line);
          lit->value = (tok.text == "none" || tok.text == "None") ? Value::None()
                                                                  : Value(tok.text == "true" || tok.text == "True");
          return lit;
        }
        return Make(ExprKind::Name, line, tok.text);
      }
      case Tok::String: {
        std::string s;
        while (Peek().kind == Tok::String) s += Next().text;  // adjacent literals concatenate
        auto lit = Make(ExprKind::Literal, line);
        lit->value = Value(std::move(s));
        return lit;
      }
      case Tok::Int:
      case Tok::Float: {
        Next();
        auto lit = Make(ExprKind::Literal, line);
        lit->value = tok.kind == Tok::Int ? Value(tok.int_value) : Value(tok.float_value);
        return lit;
      }
      case Tok::Op:
        if (tok.text == "(") {
          Next();
          if (AcceptOp(")")) return Make(ExprKind::List, line);
          ExprPtr e = ParseExpr();
          if (IsOp(",")) {
            auto list = Make(ExprKind::List, line);
            AddKid(*list, std::move(e));
            while (AcceptOp(",") && !IsOp(")")) AddKid(*list, ParseExpr());
            e = std::move(list);
          }
          ExpectOp(")");
          return e;
        }
        if (tok.text == "[") {
          Next();
          auto list = Make(ExprKind::List, line);
          while (!AcceptOp("]")) {
            AddKid(*list, ParseExpr());
            if (!IsOp("]")) ExpectOp(",");
          }
          return list;
        }
        if (tok.text == "{") {
          Next();
          auto dict = Make(ExprKind::Dict, line);
          while (!AcceptOp("}")) {
            AddKid(*dict, ParseExpr());
            ExpectOp(":");
            AddKid(*dict, ParseExpr());
            if (!IsOp("}")) ExpectOp(",");
          }
          return dict;
        }
        break;
      default: break;
    }
    Unexpected("an expression");
  }

  const std::vector<Token>& t_;
  size_t pos_ = 0;
  int depth_ = 0;  // current nesting (Nest)
};

}  // namespace

Body Parse(const std::vector<Token>& tokens) { return Parser(tokens).Run(); }

}  // namespace vkg::jinja
