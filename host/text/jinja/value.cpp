#include "host/text/jinja/value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace vkg::jinja {

const Value* Dict::Find(std::string_view key) const {
  for (const auto& [k, v] : items) {
    if (k == key) return &v;
  }
  return nullptr;
}

Value* Dict::Find(std::string_view key) {
  for (auto& [k, v] : items) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Dict::Set(const std::string& key, Value value) {
  if (Value* v = Find(key)) {
    *v = std::move(value);
  } else {
    items.emplace_back(key, std::move(value));
  }
}

const Value* Args::Get(size_t index, std::string_view name) const {
  if (index < pos.size()) return &pos[index];
  for (const auto& [k, v] : kw) {
    if (k == name) return &v;
  }
  return nullptr;
}

Value Value::Undefined(std::string name) {
  Value v;
  v.s_ = std::move(name);
  return v;
}

Value Value::None() {
  Value v;
  v.kind_ = Kind::None;
  return v;
}

Value::Value(bool b) : kind_(Kind::Bool), b_(b) {}
Value::Value(int64_t v) : kind_(Kind::Int), i_(v) {}
Value::Value(double v) : kind_(Kind::Float), f_(v) {}
Value::Value(std::string s, std::string taint) : kind_(Kind::String), s_(std::move(s)), taint_(std::move(taint)) {
  if (taint_.find('\1') == std::string::npos) taint_.clear();
}
Value::Value(List list) : kind_(Kind::List), list_(std::make_shared<List>(std::move(list))) {}
Value::Value(ListPtr list) : kind_(Kind::List), list_(std::move(list)) {}
Value::Value(DictPtr dict, bool is_namespace) : kind_(Kind::Dict), namespace_(is_namespace), dict_(std::move(dict)) {}

Value Value::MakeFunction(std::string name, Function fn) {
  Value v;
  v.kind_ = Kind::Function;
  v.s_ = std::move(name);
  v.fn_ = std::make_shared<const Function>(std::move(fn));
  return v;
}

bool Value::tainted() const { return !taint_.empty(); }

bool Value::Truthy() const {
  switch (kind_) {
    case Kind::Undefined:
    case Kind::None: return false;
    case Kind::Bool: return b_;
    case Kind::Int: return i_ != 0;
    case Kind::Float: return f_ != 0;
    case Kind::String: return !s_.empty();
    case Kind::List: return !list_->empty();
    case Kind::Dict: return !dict_->items.empty();
    case Kind::Function: return true;
  }
  return false;
}

std::string FormatFloat(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[40];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

namespace {

std::string QuoteRepr(const std::string& s) {
  const char q = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
  std::string out(1, q);
  for (char c : s) {
    if (c == q || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  return out + q;
}

void JsonString(const std::string& s, std::string& out) {
  out += '"';
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void Json(const Value& v, int indent, bool sort_keys, int depth, std::string& out) {
  const auto newline = [&](int d) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<size_t>(indent * d), ' ');
  };
  const char* item_sep = indent < 0 ? ", " : ",";
  switch (v.kind()) {
    case Value::Kind::Undefined:
    case Value::Kind::None: out += "null"; return;
    case Value::Kind::Bool: out += v.as_bool() ? "true" : "false"; return;
    case Value::Kind::Int: out += std::to_string(v.as_int()); return;
    case Value::Kind::Float: {
      const double f = v.as_double();
      out += std::isnan(f) ? "NaN" : std::isinf(f) ? (f < 0 ? "-Infinity" : "Infinity") : FormatFloat(f);
      return;
    }
    case Value::Kind::String: JsonString(v.str(), out); return;
    case Value::Kind::Function: JsonString(v.function_name(), out); return;
    case Value::Kind::List: {
      const List& l = *v.list();
      if (l.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < l.size(); ++i) {
        if (i) out += item_sep;
        newline(depth + 1);
        Json(l[i], indent, sort_keys, depth + 1, out);
      }
      newline(depth);
      out += ']';
      return;
    }
    case Value::Kind::Dict: {
      std::vector<const std::pair<std::string, Value>*> items;
      for (const auto& kv : v.dict()->items) items.push_back(&kv);
      if (items.empty()) {
        out += "{}";
        return;
      }
      if (sort_keys) std::stable_sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->first < b->first; });
      out += '{';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += item_sep;
        newline(depth + 1);
        JsonString(items[i]->first, out);
        out += ": ";
        Json(items[i]->second, indent, sort_keys, depth + 1, out);
      }
      newline(depth);
      out += '}';
      return;
    }
  }
}

}  // namespace

std::string Value::Repr() const {
  switch (kind_) {
    case Kind::String: return QuoteRepr(s_);
    case Kind::List: {
      std::string out = "[";
      for (size_t i = 0; i < list_->size(); ++i) out += (i ? ", " : "") + (*list_)[i].Repr();
      return out + "]";
    }
    case Kind::Dict: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, v] : dict_->items) {
        out += (first ? "" : ", ") + QuoteRepr(k) + ": " + v.Repr();
        first = false;
      }
      return out + "}";
    }
    default: return ToStr().str();
  }
}

Value Value::ToStr() const {
  switch (kind_) {
    case Kind::Undefined: return Value(std::string());
    case Kind::None: return Value("None");
    case Kind::Bool: return Value(b_ ? "True" : "False");
    case Kind::Int: return Value(std::to_string(i_));
    case Kind::Float: return Value(FormatFloat(f_));
    case Kind::String: return *this;
    case Kind::Function: return Value("<function " + s_ + ">");
    case Kind::List:
    case Kind::Dict: {
      std::string text = Repr();
      return ContainsTaint() ? Value(text, std::string(text.size(), '\1')) : Value(std::move(text));
    }
  }
  return Value(std::string());
}

std::string Value::ToJson(int indent, bool sort_keys) const {
  std::string out;
  Json(*this, indent, sort_keys, 0, out);
  return out;
}

std::string Value::TypeName() const {
  switch (kind_) {
    case Kind::Undefined: return "undefined";
    case Kind::None: return "none";
    case Kind::Bool: return "boolean";
    case Kind::Int: return "integer";
    case Kind::Float: return "float";
    case Kind::String: return "string";
    case Kind::List: return "list";
    case Kind::Dict: return namespace_ ? "namespace" : "dict";
    case Kind::Function: return "function";
  }
  return "?";
}

bool Value::ContainsTaint() const {
  if (kind_ == Kind::String) return tainted();
  if (kind_ == Kind::List) {
    return std::any_of(list_->begin(), list_->end(), [](const Value& v) { return v.ContainsTaint(); });
  }
  if (kind_ == Kind::Dict) {
    return std::any_of(dict_->items.begin(), dict_->items.end(),
                       [](const auto& kv) { return kv.second.ContainsTaint(); });
  }
  return false;
}

bool Equal(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_int() && b.is_int()) return a.as_int() == b.as_int();
    return a.as_double() == b.as_double();
  }
  if (a.is_bool() && b.is_number()) return (a.as_bool() ? 1.0 : 0.0) == b.as_double();
  if (a.is_number() && b.is_bool()) return Equal(b, a);
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::Undefined:
    case Value::Kind::None: return true;
    case Value::Kind::Bool: return a.as_bool() == b.as_bool();
    case Value::Kind::String: return a.str() == b.str();
    case Value::Kind::List: {
      const List &x = *a.list(), &y = *b.list();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!Equal(x[i], y[i])) return false;
      }
      return true;
    }
    case Value::Kind::Dict: {
      if (a.dict() == b.dict()) return true;
      if (a.dict()->items.size() != b.dict()->items.size()) return false;
      for (const auto& [k, v] : a.dict()->items) {
        const Value* other = b.dict()->Find(k);
        if (!other || !Equal(v, *other)) return false;
      }
      return true;
    }
    case Value::Kind::Function: return a.function_name() == b.function_name();
    default: return false;
  }
}

void AppendTo(std::string& text, std::string& taint, const Value& s) {
  if (s.tainted()) {
    taint.resize(text.size(), '\0');
    taint += s.taint();
  } else if (!taint.empty()) {
    taint.append(s.str().size(), '\0');
  }
  text += s.str();
}

Value Concat(const Value& a, const Value& b) {
  StrBuilder sb;
  sb.Add(a);
  sb.Add(b);
  return sb.Take();
}

Value Substr(const Value& s, size_t pos, size_t len) {
  if (pos > s.str().size()) pos = s.str().size();
  return Value(s.str().substr(pos, len), s.tainted() ? s.taint().substr(pos, len) : std::string());
}

void StrBuilder::Add(const Value& s) { AppendTo(text_, taint_, s); }
void StrBuilder::AddText(std::string_view plain) {
  if (!taint_.empty()) taint_.append(plain.size(), '\0');
  text_ += plain;
}
Value StrBuilder::Take() { return Value(std::move(text_), std::move(taint_)); }

}  // namespace vkg::jinja
