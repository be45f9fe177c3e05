// Filters: {{ value | name(args) }}.
#include <algorithm>
#include <cmath>
#include <set>

#include "host/text/jinja/builtins.h"
#include "host/text/jinja/error.h"
#include "host/text/jinja/strings.h"

namespace vkg::jinja {
namespace {

const std::set<std::string, std::less<>> kFilters = {
    "trim",       "length",   "count",  "upper",   "lower",  "capitalize", "title", "replace", "join",     "first",
    "last",       "default",  "d",      "tojson",  "string", "int",        "float", "list",    "items",    "keys",
    "values",     "dictsort", "abs",    "reverse", "sort",   "unique",     "map",   "select",  "reject",   "selectattr",
    "rejectattr", "safe",     "indent", "round",   "sum",    "min",        "max",   "attr",    "wordcount"};

// value[attribute] for map/sort/selectattr ("a.b" walks nested dicts).
Value Attribute(const Value& v, const std::string& path) {
  Value cur = v;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (cur.is_dict()) {
      const Value* f = cur.dict()->Find(key);
      cur = f ? *f : Value::Undefined(key);
    } else if (cur.is_list() && !key.empty() && std::all_of(key.begin(), key.end(), ::isdigit)) {
      const size_t i = std::stoul(key);
      cur = i < cur.list()->size() ? (*cur.list())[i] : Value::Undefined(key);
    } else {
      return Value::Undefined(key);
    }
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

int Compare(const Value& a, const Value& b, bool case_sensitive, int line) {
  if (a.is_number() && b.is_number()) return a.as_double() < b.as_double() ? -1 : a.as_double() > b.as_double();
  if (a.is_string() && b.is_string()) {
    const std::string x = case_sensitive ? a.str() : ChangeCase(a, Case::Lower).str();
    const std::string y = case_sensitive ? b.str() : ChangeCase(b, Case::Lower).str();
    return x < y ? -1 : x > y;
  }
  if (a.is_bool() && b.is_bool()) return int(a.as_bool()) - int(b.as_bool());
  throw Error(line, "cannot compare " + a.TypeName() + " with " + b.TypeName());
}

bool Flag(const Args& args, size_t i, const char* name) {
  const Value* v = args.Get(i, name);
  return v && v->Truthy();
}

// Arguments after the first `skip` positionals, for a test or filter called by name.
Args Rest(const Args& args, size_t skip) {
  Args rest;
  for (size_t i = skip; i < args.pos.size(); ++i) rest.pos.push_back(args.pos[i]);
  return rest;
}

Value ToInt(const Value& v, const Value* dflt) {
  if (v.is_int()) return v;
  if (v.is_bool()) return Value(int64_t{v.as_bool()});
  if (v.kind() == Value::Kind::Float) return Value(static_cast<int64_t>(v.as_double()));
  if (v.is_string()) {
    try {
      size_t used = 0;
      const std::string s = Strip(v, nullptr, true, true).str();
      const double d = std::stod(s, &used);
      if (used == s.size()) return Value(static_cast<int64_t>(d));
    } catch (const std::exception&) {
    }
  }
  return dflt ? *dflt : Value(int64_t{0});
}

}  // namespace

bool IsKnownFilter(std::string_view name) { return kFilters.count(name) > 0; }

// Long by design: a flat dispatch on the filter name, one short branch per Jinja filter, in the
// order the filters are documented (a table of lambdas would only move the same lines apart).
Value ApplyFilter(const std::string& name, const Value& v, const Args& args, int line) {
  const auto need = [&](size_t i, const char* n) -> const Value& {
    const Value* a = args.Get(i, n);
    if (!a) throw Error(line, "filter '" + name + "' is missing argument '" + n + "'");
    return *a;
  };
  const auto expect = [&](bool ok, const char* what) {
    if (!ok) throw Error(line, "filter '" + name + "' expects " + what + ", got " + v.TypeName());
  };
  if (name == "safe") return v;
  if (name == "default" || name == "d") {
    const bool use = Flag(args, 1, "boolean") ? !v.Truthy() : v.is_undefined();
    if (!use) return v;
    const Value* d = args.Get(0, "default_value");
    return d ? *d : Value(std::string());
  }
  if (name == "trim") {
    expect(v.is_string(), "a string");
    return Strip(v, args.Get(0, "chars"), true, true);
  }
  if (name == "upper" || name == "lower" || name == "capitalize" || name == "title") {
    const Value s = v.ToStr();
    return ChangeCase(s, name == "upper"   ? Case::Upper
                         : name == "lower" ? Case::Lower
                         : name == "title" ? Case::Title
                                           : Case::Capitalize);
  }
  if (name == "replace") {
    const Value* count = args.Get(2, "count");
    return Replace(v.ToStr(), need(0, "old").ToStr().str(), need(1, "new").ToStr(),
                   count ? ToInt(*count, nullptr).as_int() : -1);
  }
  if (name == "length" || name == "count") {
    if (v.is_string()) return Value(static_cast<int64_t>(CharCount(v.str())));
    if (v.is_list()) return Value(static_cast<int64_t>(v.list()->size()));
    if (v.is_dict()) return Value(static_cast<int64_t>(v.dict()->items.size()));
    if (v.is_undefined()) return Value(int64_t{0});
    expect(false, "a string, list or dict");
  }
  if (name == "wordcount") return Value(static_cast<int64_t>(Split(v.ToStr(), nullptr, -1).size()));
  if (name == "string") return v.ToStr();
  if (name == "int") return ToInt(v, args.Get(0, "default"));
  if (name == "float") {
    if (v.is_number()) return Value(v.as_double());
    const Value i = ToInt(v, nullptr);
    try {
      if (v.is_string()) return Value(std::stod(v.str()));
    } catch (const std::exception&) {
    }
    const Value* d = args.Get(0, "default");
    return d ? *d : Value(i.is_int() && v.is_bool() ? static_cast<double>(i.as_int()) : 0.0);
  }
  if (name == "abs") {
    expect(v.is_number(), "a number");
    return v.is_int() ? Value(v.as_int() < 0 ? -v.as_int() : v.as_int()) : Value(std::fabs(v.as_double()));
  }
  if (name == "round") {
    expect(v.is_number(), "a number");
    const Value* p = args.Get(0, "precision");
    const double scale = std::pow(10.0, p ? static_cast<double>(ToInt(*p, nullptr).as_int()) : 0.0);
    return Value(std::round(v.as_double() * scale) / scale);
  }
  if (name == "tojson") {
    const Value* indent = args.Get(0, "indent");
    const int n = indent && indent->is_int() ? static_cast<int>(indent->as_int()) : -1;
    std::string json = v.ToJson(n, Flag(args, 99, "sort_keys"));
    return v.ContainsTaint() ? Value(json, std::string(json.size(), '\1')) : Value(std::move(json));
  }
  if (name == "attr") return Attribute(v, need(0, "name").ToStr().str());
  if (name == "items" || name == "keys" || name == "values") {
    if (v.is_undefined()) return Value(List{});
    expect(v.is_dict(), "a dict");
    List out;
    for (const auto& [k, x] : v.dict()->items) {
      out.push_back(name == "items" ? Value(List{Value(k), x}) : name == "keys" ? Value(k) : x);
    }
    return Value(std::move(out));
  }
  if (name == "dictsort") {
    expect(v.is_dict(), "a dict");
    const bool by_value = args.Get(1, "by") && args.Get(1, "by")->str() == "value";
    List out;
    for (const auto& [k, x] : v.dict()->items) out.push_back(Value(List{Value(k), x}));
    const bool cs = Flag(args, 0, "case_sensitive");
    std::stable_sort(out.begin(), out.end(), [&](const Value& a, const Value& b) {
      const size_t i = by_value ? 1 : 0;
      return Compare((*a.list())[i], (*b.list())[i], cs, line) < 0;
    });
    if (Flag(args, 2, "reverse")) std::reverse(out.begin(), out.end());
    return Value(std::move(out));
  }

  // The rest work on sequences.
  std::vector<Value> items = Iterate(v, line);
  if (name == "list") return Value(std::move(items));
  if (name == "first" || name == "last") {
    if (items.empty()) return Value::Undefined();
    return name == "first" ? items.front() : items.back();
  }
  if (name == "join") {
    const Value* attr = args.Get(1, "attribute");
    const Value* sep = args.Get(0, "d");
    StrBuilder sb;
    for (size_t i = 0; i < items.size(); ++i) {
      if (i && sep) sb.Add(sep->ToStr());
      sb.Add((attr ? Attribute(items[i], attr->ToStr().str()) : items[i]).ToStr());
    }
    return sb.Take();
  }
  if (name == "reverse") {
    if (v.is_string()) {
      StrBuilder sb;
      for (auto it = items.rbegin(); it != items.rend(); ++it) sb.Add(*it);
      return sb.Take();
    }
    std::reverse(items.begin(), items.end());
    return Value(std::move(items));
  }
  if (name == "sort" || name == "min" || name == "max" || name == "unique") {
    const Value* attr = args.Get(name == "sort" ? 2 : 1, "attribute");
    const bool cs = Flag(args, name == "sort" ? 1 : 0, "case_sensitive");
    const auto key = [&](const Value& x) { return attr ? Attribute(x, attr->ToStr().str()) : x; };
    if (name == "unique") {
      List out;
      for (const Value& x : items) {
        const bool seen =
            std::any_of(out.begin(), out.end(), [&](const Value& y) { return Compare(key(x), key(y), cs, line) == 0; });
        if (!seen) out.push_back(x);
      }
      return Value(std::move(out));
    }
    std::stable_sort(items.begin(), items.end(),
                     [&](const Value& a, const Value& b) { return Compare(key(a), key(b), cs, line) < 0; });
    if (name == "min") return items.empty() ? Value::Undefined() : items.front();
    if (name == "max") return items.empty() ? Value::Undefined() : items.back();
    if (Flag(args, 0, "reverse")) std::reverse(items.begin(), items.end());
    return Value(std::move(items));
  }
  if (name == "sum") {
    const Value* attr = args.Get(0, "attribute");
    bool is_float = false;
    double f = 0;
    int64_t i = 0;
    for (const Value& x0 : items) {
      const Value x = attr ? Attribute(x0, attr->ToStr().str()) : x0;
      if (!x.is_number()) throw Error(line, "filter 'sum' expects numbers, got " + x.TypeName());
      is_float = is_float || !x.is_int();
      f += x.as_double();
      if (x.is_int()) i += x.as_int();
    }
    return is_float ? Value(f) : Value(i);
  }
  if (name == "map") {
    List out;
    const Value* attr = args.Get(99, "attribute");
    for (const Value& x : items) {
      if (attr) {
        const Value a = Attribute(x, attr->ToStr().str());
        const Value* d = args.Get(99, "default");
        out.push_back(a.is_undefined() && d ? *d : a);
      } else {
        const std::string f = need(0, "filter").ToStr().str();
        if (!IsKnownFilter(f)) throw Error(line, "unknown filter '" + f + "'");
        out.push_back(ApplyFilter(f, x, Rest(args, 1), line));
      }
    }
    return Value(std::move(out));
  }
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
    const bool by_attr = name == "selectattr" || name == "rejectattr";
    const bool keep_if = name == "select" || name == "selectattr";
    const std::string attr = by_attr ? need(0, "attribute").ToStr().str() : std::string();
    const Value* test = args.Get(by_attr ? 1 : 0, "test");
    const std::string test_name = test ? test->ToStr().str() : std::string();
    if (test && !IsKnownTest(test_name)) throw Error(line, "unknown test '" + test_name + "'");
    List out;
    for (const Value& x : items) {
      const Value subject = by_attr ? Attribute(x, attr) : x;
      const bool pass = test ? ApplyTest(test_name, subject, Rest(args, by_attr ? 2 : 1), line) : subject.Truthy();
      if (pass == keep_if) out.push_back(x);
    }
    return Value(std::move(out));
  }
  if (name == "indent") {
    const Value s = v.ToStr();
    const Value* w = args.Get(0, "width");
    const std::string pad =
        w && w->is_string() ? w->str() : std::string(w ? static_cast<size_t>(ToInt(*w, nullptr).as_int()) : 4, ' ');
    const bool first = Flag(args, 1, "first"), blank = Flag(args, 2, "blank");
    Value nl("\n");
    const std::vector<Value> lines = Split(s, &nl, -1);
    StrBuilder sb;
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) sb.AddText("\n");
      if ((i > 0 || first) && (blank || !lines[i].str().empty())) sb.AddText(pad);
      sb.Add(lines[i]);
    }
    return sb.Take();
  }
  throw Error(line, "unknown filter '" + name + "'");
}

}  // namespace vkg::jinja
