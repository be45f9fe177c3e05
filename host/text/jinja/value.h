// vkg::jinja values: the dynamic type of the Jinja interpreter (undefined, none, bool, int, float,
// string, list, dict, callable). Lists and dicts are shared by reference, as in Python.
// Strings carry an optional taint mask (one byte per byte of text, 1 = came from tainted input such
// as a chat message's content) that string operations carry along, so that a rendering can tell
// template text from user text byte by byte.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vkg::jinja {

class Value;
using List = std::vector<Value>;
using ListPtr = std::shared_ptr<List>;

// Insertion-ordered string-keyed map (Python dict order).
struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  const Value* Find(std::string_view key) const;
  Value* Find(std::string_view key);
  void Set(const std::string& key, Value value);
};
using DictPtr = std::shared_ptr<Dict>;

// Arguments of a call: positional, then keyword.
struct Args {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
  // Positional `index` or keyword `name`; nullptr if neither.
  const Value* Get(size_t index, std::string_view name) const;
};
using Function = std::function<Value(const Args&)>;

class Value {
 public:
  enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Function };

  Value() = default;  // undefined
  static Value Undefined(std::string name = {});
  static Value None();
  Value(bool b);
  Value(int v) : Value(static_cast<int64_t>(v)) {}
  Value(int64_t v);
  Value(double v);
  Value(std::string s, std::string taint = {});
  Value(const char* s) : Value(std::string(s)) {}
  Value(List list);
  Value(ListPtr list);
  Value(DictPtr dict, bool is_namespace = false);
  static Value MakeDict() { return Value(std::make_shared<Dict>()); }
  static Value MakeFunction(std::string name, Function fn);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_int() const { return kind_ == Kind::Int; }
  bool is_number() const { return kind_ == Kind::Int || kind_ == Kind::Float; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_list() const { return kind_ == Kind::List; }
  bool is_dict() const { return kind_ == Kind::Dict; }
  bool is_function() const { return kind_ == Kind::Function; }
  bool is_namespace() const { return kind_ == Kind::Dict && namespace_; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return i_; }
  double as_double() const { return kind_ == Kind::Int ? static_cast<double>(i_) : f_; }
  const std::string& str() const { return s_; }        // string text (or undefined's name)
  const std::string& taint() const { return taint_; }  // empty = untainted, else str().size() bytes
  bool tainted() const;
  const ListPtr& list() const { return list_; }
  const DictPtr& dict() const { return dict_; }
  const std::string& function_name() const { return s_; }
  Value Call(const Args& args) const { return (*fn_)(args); }

  bool Truthy() const;
  // Python str(): None -> "None", True -> "True", lists/dicts as Python reprs, undefined -> "".
  // The result keeps string taint; containers with any tainted string come out fully tainted.
  Value ToStr() const;
  std::string Repr() const;  // Python repr() (strings quoted)
  // json.dumps(value, ensure_ascii=False, indent=indent) (indent < 0: none), optionally sort_keys.
  std::string ToJson(int indent = -1, bool sort_keys = false) const;
  std::string TypeName() const;  // "string", "list", ... for messages
  bool ContainsTaint() const;    // any tainted string inside (deep)

 private:
  Kind kind_ = Kind::Undefined;
  bool b_ = false;
  bool namespace_ = false;
  int64_t i_ = 0;
  double f_ = 0;
  std::string s_, taint_;
  ListPtr list_;
  DictPtr dict_;
  std::shared_ptr<const Function> fn_;
};

bool Equal(const Value& a, const Value& b);
// Python float str() ("1.0", "0.1", "1e+16").
std::string FormatFloat(double v);

// Taint-carrying string building.
Value Concat(const Value& a, const Value& b);  // both strings
Value Substr(const Value& s, size_t pos, size_t len = std::string::npos);
void AppendTo(std::string& text, std::string& taint, const Value& s);  // s a string
// Builds a string value piece by piece, keeping the taint mask only if some piece is tainted.
class StrBuilder {
 public:
  void Add(const Value& s);  // a string value
  void AddText(std::string_view plain);
  Value Take();

 private:
  std::string text_, taint_;
};

}  // namespace vkg::jinja
