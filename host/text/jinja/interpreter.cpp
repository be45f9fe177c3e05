#include "host/text/jinja/interpreter.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <unordered_map>

#include "host/text/jinja/builtins.h"
#include "host/text/jinja/error.h"
#include "host/text/jinja/strings.h"

namespace vkg::jinja {
namespace {

using Scope = std::unordered_map<std::string, Value>;
enum class Flow { Normal, Break, Continue };

class Interpreter {
 public:
  explicit Interpreter(const Value& context) {
    scopes_.emplace_back();
    for (const auto& [k, v] : context.dict()->items) scopes_.back()[k] = v;
  }

  Rendered Run(const Body& body) {
    Exec(body);
    return std::move(out_);
  }

 private:
  // ---- statements ----
  Flow Exec(const Body& body) {
    for (const StmtPtr& s : body) {
      const Flow f = Exec(*s);
      if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
  }

  // The rendered text stays within kMaxRenderBytes (loops can multiply any output).
  Flow CheckSize(int line) const {
    if (out_.text.size() > kMaxRenderBytes) {
      throw Error(line, "the rendered text exceeds " + std::to_string(kMaxRenderBytes >> 20) + " MiB");
    }
    return Flow::Normal;
  }

  Flow Exec(const Stmt& s) {
    switch (s.kind) {
      case StmtKind::Text:
        if (!out_.taint.empty()) out_.taint.append(s.text.size(), '\0');
        out_.text += s.text;
        return CheckSize(s.line);
      case StmtKind::Output: AppendTo(out_.text, out_.taint, Eval(*s.expr).ToStr()); return CheckSize(s.line);
      case StmtKind::If:
        for (const auto& [cond, body] : s.branches) {
          if (Eval(*cond).Truthy()) return Exec(body);
        }
        return Exec(s.else_body);
      case StmtKind::For: return ExecFor(s);
      case StmtKind::Set: ExecSet(s); return Flow::Normal;
      case StmtKind::Macro: scopes_.back()[s.text] = MakeMacro(s); return Flow::Normal;
      case StmtKind::Break: return Flow::Break;
      case StmtKind::Continue: return Flow::Continue;
      case StmtKind::Do: Eval(*s.expr); return Flow::Normal;
      case StmtKind::Block: return Exec(s.body);
    }
    return Flow::Normal;
  }

  void Bind(const std::vector<std::string>& targets, const Value& v, int line) {
    if (targets.size() == 1) {
      scopes_.back()[targets[0]] = v;
      return;
    }
    const std::vector<Value> items = Iterate(v, line);
    if (items.size() != targets.size()) {
      throw Error(line, "cannot unpack " + std::to_string(items.size()) + " values into " +
                            std::to_string(targets.size()) + " names");
    }
    for (size_t i = 0; i < items.size(); ++i) scopes_.back()[targets[i]] = items[i];
  }

  Flow ExecFor(const Stmt& s) {
    std::vector<Value> items = Iterate(Eval(*s.expr), s.line);
    if (s.expr2) {  // {% for x in xs if cond %}: filtered before loop.length is known
      std::vector<Value> kept;
      for (const Value& item : items) {
        scopes_.emplace_back();
        Bind(s.targets, item, s.line);
        const bool keep = Eval(*s.expr2).Truthy();
        scopes_.pop_back();
        if (keep) kept.push_back(item);
      }
      items = std::move(kept);
    }
    if (items.empty()) return Exec(s.else_body);
    const int64_t n = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < n; ++i) {
      scopes_.emplace_back();
      Bind(s.targets, items[i], s.line);
      auto loop = std::make_shared<Dict>();
      loop->Set("index", Value(i + 1));
      loop->Set("index0", Value(i));
      loop->Set("revindex", Value(n - i));
      loop->Set("revindex0", Value(n - i - 1));
      loop->Set("first", Value(i == 0));
      loop->Set("last", Value(i == n - 1));
      loop->Set("length", Value(n));
      loop->Set("previtem", i > 0 ? items[i - 1] : Value::Undefined("previtem"));
      loop->Set("nextitem", i + 1 < n ? items[i + 1] : Value::Undefined("nextitem"));
      scopes_.back()["loop"] = Value(loop);
      const Flow f = Exec(s.body);
      scopes_.pop_back();
      if (f == Flow::Break) break;
    }
    return Flow::Normal;
  }

  void ExecSet(const Stmt& s) {
    if (!s.expr) {  // {% set x %}...{% endset %}
      Rendered saved = std::move(out_);
      out_ = {};
      Exec(s.body);
      Rendered captured = std::move(out_);
      out_ = std::move(saved);
      scopes_.back()[s.targets[0]] = Value(std::move(captured.text), std::move(captured.taint));
      return;
    }
    Value v = Eval(*s.expr);
    if (s.text.empty()) {
      Bind(s.targets, v, s.line);
      return;
    }
    const Value obj = Lookup(s.targets[0], s.line);
    if (!obj.is_namespace()) {
      throw Error(s.line, "cannot set attribute '" + s.text + "' of '" + s.targets[0] + "' (not a namespace)");
    }
    CheckInsert(obj, v, s.line);
    obj.dict()->Set(s.text, std::move(v));
  }

  Value MakeMacro(const Stmt& s) {
    return Value::MakeFunction(s.text, [this, &s](const Args& args) {
      // Recursive macros are bounded: each call nests C++ frames.
      if (macro_depth_ >= kMaxMacroDepth) {
        throw Error(s.line, "macro '" + s.text + "' calls nest deeper than " + std::to_string(kMaxMacroDepth));
      }
      struct Nest {
        int& d;
        explicit Nest(int& depth) : d(++depth) {}
        ~Nest() { --d; }
      } nest(macro_depth_);
      if (args.pos.size() > s.targets.size()) {
        throw Error(s.line, "macro '" + s.text + "' takes " + std::to_string(s.targets.size()) + " arguments");
      }
      std::vector<Scope> saved = std::move(scopes_);
      scopes_ = {saved.front(), Scope()};
      Rendered saved_out = std::move(out_);
      out_ = {};
      for (size_t i = 0; i < s.targets.size(); ++i) {
        const Value* a = args.Get(i, s.targets[i]);
        scopes_.back()[s.targets[i]] = a ? *a : s.defaults[i] ? Eval(*s.defaults[i]) : Value::Undefined(s.targets[i]);
      }
      Exec(s.body);
      Rendered result = std::move(out_);
      scopes_ = std::move(saved);
      out_ = std::move(saved_out);
      return Value(std::move(result.text), std::move(result.taint));
    });
  }

  Value Lookup(const std::string& name, int line) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      if (auto f = it->find(name); f != it->end()) return f->second;
    }
    return GlobalFunction(name, line);
  }

  // ---- expressions ----
  Args EvalArgs(const Expr& e, size_t first) {
    Args args;
    for (size_t i = first; i < e.kids.size(); ++i) {
      const std::string& n = e.arg_names[i - 1];
      if (n.empty())
        args.pos.push_back(Eval(*e.kids[i]));
      else
        args.kw.emplace_back(n, Eval(*e.kids[i]));
    }
    return args;
  }

  static std::string Describe(const Expr& e) {
    if (e.kind == ExprKind::Name) return "'" + e.name + "'";
    if (e.kind == ExprKind::Attr) return Describe(*e.kids[0]) + "." + e.name;
    return "value";
  }

  [[noreturn]] static void UndefinedAccess(const Expr& obj, const Value& v, int line) {
    throw Error(line, Describe(obj) + " is " + (v.is_undefined() ? "undefined" : "none"));
  }

  Value Eval(const Expr& e) {
    switch (e.kind) {
      case ExprKind::Literal: return e.value;
      case ExprKind::Name: return Lookup(e.name, e.line);
      case ExprKind::List: {
        List items;
        for (const ExprPtr& k : e.kids) {
          items.push_back(Eval(*k));
          CheckInsert(Value(), items.back(), e.line);  // depth only: a new list holds no cycle
        }
        return Value(std::move(items));
      }
      case ExprKind::Dict: {
        auto d = std::make_shared<Dict>();
        for (size_t i = 0; i + 1 < e.kids.size(); i += 2) {
          Value v = Eval(*e.kids[i + 1]);
          CheckInsert(Value(), v, e.line);
          d->Set(Eval(*e.kids[i]).ToStr().str(), std::move(v));
        }
        return Value(d);
      }
      case ExprKind::Attr: {
        const Value obj = Eval(*e.kids[0]);
        if (obj.is_undefined() || obj.is_none()) UndefinedAccess(*e.kids[0], obj, e.line);
        if (obj.is_dict()) {
          const Value* f = obj.dict()->Find(e.name);
          return f ? *f : Value::Undefined(e.name);
        }
        return Value::Undefined(e.name);
      }
      case ExprKind::Index: return EvalIndex(e);
      case ExprKind::Slice: return EvalSlice(e);
      case ExprKind::Call: {
        const Expr& callee = *e.kids[0];
        if (callee.kind == ExprKind::Attr) {
          const Value obj = Eval(*callee.kids[0]);
          if (obj.is_undefined() || obj.is_none()) UndefinedAccess(*callee.kids[0], obj, e.line);
          if (auto r = CallMethod(obj, callee.name, EvalArgs(e, 1), e.line)) return *r;
        }
        const Value fn = Eval(callee);
        if (!fn.is_function()) throw Error(e.line, Describe(callee) + " is not callable");
        return fn.Call(EvalArgs(e, 1));
      }
      case ExprKind::Filter: return ApplyFilter(e.name, Eval(*e.kids[0]), EvalArgs(e, 1), e.line);
      case ExprKind::Test: return Value(ApplyTest(e.name, Eval(*e.kids[0]), EvalArgs(e, 1), e.line) != e.negate);
      case ExprKind::Unary: {
        const Value v = Eval(*e.kids[0]);
        if (e.name == "not") return Value(!v.Truthy());
        if (!v.is_number()) throw Error(e.line, "bad operand type for unary " + e.name + ": " + v.TypeName());
        if (e.name == "+") return v;
        if (v.is_int() && v.as_int() == std::numeric_limits<int64_t>::min()) throw Error(e.line, "integer overflow");
        return v.is_int() ? Value(-v.as_int()) : Value(-v.as_double());
      }
      case ExprKind::And: {
        Value l = Eval(*e.kids[0]);
        return l.Truthy() ? Eval(*e.kids[1]) : l;
      }
      case ExprKind::Or: {
        Value l = Eval(*e.kids[0]);
        return l.Truthy() ? l : Eval(*e.kids[1]);
      }
      case ExprKind::Cond:
        if (Eval(*e.kids[1]).Truthy()) return Eval(*e.kids[0]);
        return e.kids[2] ? Eval(*e.kids[2]) : Value::Undefined();
      case ExprKind::Binary: return EvalBinary(e.name, Eval(*e.kids[0]), Eval(*e.kids[1]), e.line);
    }
    return Value();
  }

  Value EvalIndex(const Expr& e) {
    const Value obj = Eval(*e.kids[0]);
    const Value key = Eval(*e.kids[1]);
    if (obj.is_undefined() || obj.is_none()) UndefinedAccess(*e.kids[0], obj, e.line);
    if (obj.is_dict()) {
      const Value* f = obj.dict()->Find(key.ToStr().str());
      return f ? *f : Value::Undefined(key.ToStr().str());
    }
    if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
      const std::vector<Value> items = obj.is_list() ? *obj.list() : Chars(obj);
      int64_t i = key.is_int() ? key.as_int() : key.as_bool();
      if (i < 0) i += static_cast<int64_t>(items.size());
      if (i < 0 || i >= static_cast<int64_t>(items.size())) return Value::Undefined();
      return items[static_cast<size_t>(i)];
    }
    if (obj.is_list() || obj.is_string()) throw Error(e.line, "indices must be integers, not " + key.TypeName());
    return Value::Undefined();
  }

  Value EvalSlice(const Expr& e) {
    const Value obj = Eval(*e.kids[0]);
    if (!obj.is_list() && !obj.is_string()) throw Error(e.line, "cannot slice " + obj.TypeName());
    const std::vector<Value> items = obj.is_list() ? *obj.list() : Chars(obj);
    const int64_t n = static_cast<int64_t>(items.size());
    const auto part = [&](int k) -> std::optional<int64_t> {
      if (!e.kids[k]) return std::nullopt;
      const Value v = Eval(*e.kids[k]);
      if (v.is_none()) return std::nullopt;
      if (!v.is_int()) throw Error(e.line, "slice indices must be integers");
      return v.as_int();
    };
    const std::optional<int64_t> a = part(1), b = part(2), c = part(3);
    const int64_t step = c.value_or(1);
    if (step == 0) throw Error(e.line, "slice step cannot be zero");
    const auto clamp = [&](std::optional<int64_t> x, int64_t dflt) {
      if (!x) return dflt;
      int64_t v = *x < 0 ? *x + n : *x;
      if (step > 0) return std::clamp<int64_t>(v, 0, n);
      return std::clamp<int64_t>(v, -1, n - 1);
    };
    const int64_t start = clamp(a, step > 0 ? 0 : n - 1), stop = clamp(b, step > 0 ? n : -1);
    List out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(items[static_cast<size_t>(i)]);
    if (obj.is_list()) return Value(std::move(out));
    StrBuilder sb;
    for (const Value& ch : out) sb.Add(ch);
    return sb.Take();
  }

  // Long by design: a flat dispatch on the operator, one branch per binary operator with its
  // Python semantics.
  static Value EvalBinary(const std::string& op, const Value& l, const Value& r, int line) {
    const auto bad = [&]() -> Value {
      throw Error(line, "unsupported operand types for " + op + ": " + l.TypeName() + " and " + r.TypeName());
    };
    if (op == "==") return Value(Equal(l, r));
    if (op == "!=") return Value(!Equal(l, r));
    if (op == "~") return Concat(l.ToStr(), r.ToStr());
    if (op == "in" || op == "not in") {
      Args a;
      a.pos.push_back(r);
      return Value(ApplyTest("in", l, a, line) == (op == "in"));
    }
    if (op == "<" || op == ">" || op == "<=" || op == ">=") {
      Args a;
      a.pos.push_back(r);
      return Value(ApplyTest(op, l, a, line));
    }
    if (op == "+") {
      if (l.is_string() && r.is_string()) return Concat(l, r);
      if (l.is_list() && r.is_list()) {
        List out = *l.list();
        out.insert(out.end(), r.list()->begin(), r.list()->end());
        return Value(std::move(out));
      }
    }
    if (op == "*" && (l.is_string() || l.is_list()) && r.is_int()) {
      // A repeated string or list is bounded like every rendered text (kMaxRenderBytes).
      const uint64_t unit = l.is_string() ? l.str().size() : l.list()->size() * 16;
      if (r.as_int() > 0 && unit > 0 && uint64_t(r.as_int()) > kMaxRenderBytes / unit) {
        throw Error(line, "repetition too large (the rendered text is limited to " +
                              std::to_string(kMaxRenderBytes >> 20) + " MiB)");
      }
      StrBuilder sb;
      List out;
      for (int64_t i = 0; i < r.as_int(); ++i) {
        if (l.is_string())
          sb.Add(l);
        else
          out.insert(out.end(), l.list()->begin(), l.list()->end());
      }
      return l.is_string() ? sb.Take() : Value(std::move(out));
    }
    const auto num = [](const Value& v) { return v.is_number() || v.is_bool(); };
    if (!num(l) || !num(r)) return bad();
    const bool ints = !(l.kind() == Value::Kind::Float || r.kind() == Value::Kind::Float);
    const int64_t li = l.is_bool() ? l.as_bool() : l.as_int(), ri = r.is_bool() ? r.as_bool() : r.as_int();
    const double lf = l.is_bool() ? li : l.as_double(), rf = r.is_bool() ? ri : r.as_double();
    // Integer arithmetic stays in int64 or fails: Python's ints are unbounded, templates never need more.
    const auto overflow = [line] { return Error(line, "integer overflow"); };
    int64_t v = 0;
    if (op == "+" || op == "-" || op == "*") {
      if (!ints) return Value(op == "+" ? lf + rf : op == "-" ? lf - rf : lf * rf);
      const bool over = op == "+"   ? __builtin_add_overflow(li, ri, &v)
                        : op == "-" ? __builtin_sub_overflow(li, ri, &v)
                                    : __builtin_mul_overflow(li, ri, &v);
      if (over) throw overflow();
      return Value(v);
    }
    if (op == "**") {
      const double p = std::pow(lf, rf);
      if (!ints || ri < 0) return Value(p);
      if (!(p > -9.2e18 && p < 9.2e18)) throw overflow();
      return Value(static_cast<int64_t>(p));
    }
    if (rf == 0) throw Error(line, "division by zero");
    if (ints && li == std::numeric_limits<int64_t>::min() && ri == -1 && (op == "//" || op == "%")) {
      throw overflow();
    }
    if (op == "/") return Value(lf / rf);
    if (op == "//") {
      if (!ints) return Value(std::floor(lf / rf));
      int64_t q = li / ri;
      if ((li % ri != 0) && ((li < 0) != (ri < 0))) --q;
      return Value(q);
    }
    if (op == "%") {
      if (!ints) return Value(lf - std::floor(lf / rf) * rf);
      int64_t m = li % ri;
      if (m != 0 && ((m < 0) != (ri < 0))) m += ri;
      return Value(m);
    }
    return bad();
  }

  std::vector<Scope> scopes_;
  Rendered out_;
  int macro_depth_ = 0;
  static constexpr int kMaxMacroDepth = 64;
};

}  // namespace

Rendered Execute(const Body& body, const Value& context) { return Interpreter(context).Run(body); }

}  // namespace vkg::jinja
