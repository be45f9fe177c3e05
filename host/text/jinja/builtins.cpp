// Tests, methods, global functions and iteration. Filters are in filters.cpp.
#include <chrono>
#include <cmath>
#include <ctime>
#include <set>

#include "host/text/jinja/builtins.h"
#include "host/text/jinja/error.h"
#include "host/text/jinja/strings.h"

namespace vkg::jinja {
namespace {

const std::set<std::string, std::less<>> kTests = {
    "defined", "undefined", "none", "string", "mapping",  "iterable", "sequence", "number",      "integer",
    "float",   "boolean",   "true", "false",  "callable", "odd",      "even",     "divisibleby", "eq",
    "equalto", "==",        "ne",   "!=",     "lt",       "lessthan", "<",        "gt",          "greaterthan",
    ">",       "le",        "<=",   "ge",     ">=",       "in",       "sameas",   "lower",       "upper"};

const Value& Arg(const Args& args, size_t i, const char* name, const std::string& fn, int line) {
  const Value* v = args.Get(i, name);
  if (!v) throw Error(line, fn + "() is missing argument '" + name + "'");
  return *v;
}

bool Less(const Value& a, const Value& b, const std::string& op, int line) {
  if (a.is_number() && b.is_number()) return a.as_double() < b.as_double();
  if (a.is_string() && b.is_string()) return a.str() < b.str();
  throw Error(line, "'" + op + "' is not supported between " + a.TypeName() + " and " + b.TypeName());
}

int64_t IntArg(const Value& v, const std::string& fn, int line) {
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return v.as_bool();
  throw Error(line, fn + "() expects an integer, got " + v.TypeName());
}

}  // namespace

bool IsKnownTest(std::string_view name) { return kTests.count(name) > 0; }

bool ApplyTest(const std::string& name, const Value& v, const Args& args, int line) {
  const auto arg = [&](size_t i) -> const Value& { return Arg(args, i, "value", "test " + name, line); };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "iterable") return v.is_list() || v.is_dict() || v.is_string();
  if (name == "sequence") return v.is_list() || v.is_dict() || v.is_string();
  if (name == "number") return v.is_number();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.kind() == Value::Kind::Float;
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "callable") return v.is_function();
  if (name == "odd" || name == "even") {
    const int64_t i = IntArg(v, "test " + name, line);
    return (i % 2 != 0) == (name == "odd");
  }
  if (name == "divisibleby") {
    const int64_t d = IntArg(arg(0), "test divisibleby", line);
    if (d == 0) throw Error(line, "divisibleby(0)");
    return IntArg(v, "test divisibleby", line) % d == 0;
  }
  if (name == "eq" || name == "equalto" || name == "==") return Equal(v, arg(0));
  if (name == "ne" || name == "!=") return !Equal(v, arg(0));
  if (name == "lt" || name == "lessthan" || name == "<") return Less(v, arg(0), "<", line);
  if (name == "gt" || name == "greaterthan" || name == ">") return Less(arg(0), v, ">", line);
  if (name == "le" || name == "<=") return !Less(arg(0), v, "<=", line);
  if (name == "ge" || name == ">=") return !Less(v, arg(0), ">=", line);
  if (name == "in") {
    const Value& c = arg(0);
    if (c.is_string() && v.is_string()) return c.str().find(v.str()) != std::string::npos;
    if (c.is_dict()) return v.is_string() && c.dict()->Find(v.str());
    for (const Value& item : Iterate(c, line)) {
      if (Equal(item, v)) return true;
    }
    return false;
  }
  if (name == "sameas") {
    const Value& o = arg(0);
    if (v.is_list() && o.is_list()) return v.list() == o.list();
    if (v.is_dict() && o.is_dict()) return v.dict() == o.dict();
    return v.kind() == o.kind() && Equal(v, o);
  }
  if (name == "lower" || name == "upper") {
    if (!v.is_string()) return false;
    return ChangeCase(v, name == "lower" ? Case::Lower : Case::Upper).str() == v.str();
  }
  throw Error(line, "unknown test '" + name + "'");
}

std::vector<Value> Iterate(const Value& v, int line) {
  switch (v.kind()) {
    case Value::Kind::Undefined: return {};
    case Value::Kind::List: return *v.list();
    case Value::Kind::String: return Chars(v);
    case Value::Kind::Dict: {
      std::vector<Value> keys;
      for (const auto& kv : v.dict()->items) keys.emplace_back(kv.first);
      return keys;
    }
    default: throw Error(line, "'" + v.TypeName() + "' value is not iterable");
  }
}

// Long by design: a flat dispatch on the receiver's type, then the method name, one short branch
// per Python method the templates call.
std::optional<Value> CallMethod(const Value& obj, const std::string& name, const Args& args, int line) {
  const auto arg = [&](size_t i, const char* n) -> const Value* { return args.Get(i, n); };
  const auto need = [&](size_t i, const char* n) -> const Value& { return Arg(args, i, n, name, line); };
  if (obj.is_string()) {
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
      return Strip(obj, arg(0, "chars"), name != "rstrip", name != "lstrip");
    }
    if (name == "split") {
      const Value* mx = arg(1, "maxsplit");
      return Value(Split(obj, arg(0, "sep"), mx ? IntArg(*mx, name, line) : -1));
    }
    if (name == "startswith" || name == "endswith") {
      const Value& p = need(0, "prefix");
      std::vector<Value> options = p.is_list() ? *p.list() : std::vector<Value>{p};
      for (const Value& o : options) {
        const std::string& s = obj.str();
        const std::string& x = o.str();
        if (x.size() > s.size()) continue;
        if (name == "startswith" ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0) {
          return Value(true);
        }
      }
      return Value(false);
    }
    if (name == "upper") return ChangeCase(obj, Case::Upper);
    if (name == "lower") return ChangeCase(obj, Case::Lower);
    if (name == "title") return ChangeCase(obj, Case::Title);
    if (name == "capitalize") return ChangeCase(obj, Case::Capitalize);
    if (name == "replace") {
      const Value* count = arg(2, "count");
      return Replace(obj, need(0, "old").str(), need(1, "new").ToStr(), count ? IntArg(*count, name, line) : -1);
    }
    if (name == "find") {
      const size_t at = obj.str().find(need(0, "sub").str());
      return Value(at == std::string::npos ? int64_t{-1} : static_cast<int64_t>(CharCount(obj.str().substr(0, at))));
    }
    if (name == "count") {
      const std::string& sub = need(0, "sub").str();
      int64_t n = 0;
      for (size_t at = obj.str().find(sub); !sub.empty() && at != std::string::npos;
           at = obj.str().find(sub, at + sub.size()))
        ++n;
      return Value(n);
    }
    if (name == "join") {
      StrBuilder sb;
      const std::vector<Value> items = Iterate(need(0, "iterable"), line);
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) sb.Add(obj);
        sb.Add(items[i].ToStr());
      }
      return sb.Take();
    }
    if (name == "splitlines") {
      Value nl("\n");
      std::vector<Value> lines = Split(Replace(obj, "\r\n", nl, -1), &nl, -1);
      if (!lines.empty() && lines.back().str().empty()) lines.pop_back();
      return Value(lines);
    }
    return std::nullopt;
  }
  if (obj.is_dict() && !obj.is_namespace()) {
    const Dict& d = *obj.dict();
    if (name == "items") {
      List out;
      for (const auto& [k, v] : d.items) out.emplace_back(List{Value(k), v});
      return Value(std::move(out));
    }
    if (name == "keys" || name == "values") {
      List out;
      for (const auto& [k, v] : d.items) out.push_back(name == "keys" ? Value(k) : v);
      return Value(std::move(out));
    }
    if (name == "get") {
      const Value* found = d.Find(need(0, "key").ToStr().str());
      if (found) return *found;
      const Value* dflt = arg(1, "default");
      return dflt ? *dflt : Value::None();
    }
    return std::nullopt;
  }
  if (obj.is_list()) {
    List& l = *obj.list();
    if (name == "append") {
      CheckInsert(obj, need(0, "item"), line);
      l.push_back(need(0, "item"));
      return Value::None();
    }
    if (name == "extend") {
      for (const Value& v : Iterate(need(0, "iterable"), line)) {
        CheckInsert(obj, v, line);
        l.push_back(v);
      }
      return Value::None();
    }
    if (name == "pop") {
      if (l.empty()) throw Error(line, "pop from empty list");
      int64_t i = args.pos.empty() ? -1 : IntArg(args.pos[0], name, line);
      if (i < 0) i += static_cast<int64_t>(l.size());
      if (i < 0 || i >= static_cast<int64_t>(l.size())) throw Error(line, "pop index out of range");
      Value v = l[static_cast<size_t>(i)];
      l.erase(l.begin() + i);
      return v;
    }
    if (name == "index") {
      const Value& x = need(0, "value");
      for (size_t i = 0; i < l.size(); ++i) {
        if (Equal(l[i], x)) return Value(static_cast<int64_t>(i));
      }
      throw Error(line, "value is not in list");
    }
    return std::nullopt;
  }
  return std::nullopt;
}

Value GlobalFunction(const std::string& name, int line) {
  if (name == "range") {
    return Value::MakeFunction(name, [line](const Args& a) {
      int64_t start = 0, stop = 0, step = 1;
      if (a.pos.size() == 1) {
        stop = IntArg(a.pos[0], "range", line);
      } else if (a.pos.size() == 2 || a.pos.size() == 3) {
        start = IntArg(a.pos[0], "range", line);
        stop = IntArg(a.pos[1], "range", line);
        if (a.pos.size() == 3) step = IntArg(a.pos[2], "range", line);
      } else {
        throw Error(line, "range() takes 1 to 3 arguments");
      }
      if (step == 0) throw Error(line, "range() step must not be zero");
      const double n = (double(stop) - double(start)) / double(step);
      if (n > double(kMaxRange)) throw Error(line, "range() of more than " + std::to_string(kMaxRange) + " items");
      List out;
      for (int64_t i = start; step > 0 ? i < stop : i > stop;) {
        out.emplace_back(i);
        if (__builtin_add_overflow(i, step, &i)) break;  // past the int64 range: past stop too
      }
      return Value(std::move(out));
    });
  }
  if (name == "namespace" || name == "dict") {
    return Value::MakeFunction(name, [name, line](const Args& a) {
      auto d = std::make_shared<Dict>();
      for (const Value& p : a.pos) {
        if (!p.is_dict()) throw Error(line, name + "() takes keyword arguments or a dict");
        for (const auto& [k, v] : p.dict()->items) d->Set(k, v);
      }
      for (const auto& [k, v] : a.kw) d->Set(k, v);
      return Value(d, name == "namespace");
    });
  }
  if (name == "raise_exception") {
    return Value::MakeFunction(name, [line](const Args& a) -> Value {
      throw Error(line, "raise_exception: " + (a.pos.empty() ? std::string() : a.pos[0].ToStr().str()));
    });
  }
  if (name == "strftime_now") {
    return Value::MakeFunction(name, [line](const Args& a) {
      if (a.pos.empty() || !a.pos[0].is_string()) throw Error(line, "strftime_now() expects a format string");
      const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
      std::tm tm{};
      localtime_r(&now, &tm);
      char buf[256];
      const size_t n = std::strftime(buf, sizeof buf, a.pos[0].str().c_str(), &tm);
      return Value(std::string(buf, n));
    });
  }
  return Value::Undefined(name);
}

void CheckInsert(const Value& container, const Value& item, int line) {
  const void* target = container.is_list()   ? static_cast<const void*>(container.list().get())
                       : container.is_dict() ? static_cast<const void*>(container.dict().get())
                                             : nullptr;
  // Iterative walk of item's containers, each with its depth (1 = item itself).
  std::vector<std::pair<const Value*, int>> stack = {{&item, 1}};
  while (!stack.empty()) {
    const auto [v, depth] = stack.back();
    stack.pop_back();
    if (!v->is_list() && !v->is_dict()) continue;
    const void* here =
        v->is_list() ? static_cast<const void*>(v->list().get()) : static_cast<const void*>(v->dict().get());
    if (here == target) throw Error(line, "cannot put a " + container.TypeName() + " inside itself");
    if (depth + 1 > kMaxValueDepth) throw Error(line, "values nested deeper than " + std::to_string(kMaxValueDepth));
    if (v->is_list()) {
      for (const Value& k : *v->list()) stack.push_back({&k, depth + 1});
    } else {
      for (const auto& kv : v->dict()->items) stack.push_back({&kv.second, depth + 1});
    }
  }
}

}  // namespace vkg::jinja
