// vkg::jinja built-ins: filters, tests, methods of strings/lists/dicts and global functions.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host/text/jinja/value.h"

namespace vkg::jinja {

// Bounds on what a template may build (chat templates need a tiny fraction), so a hostile or
// broken template fails with an error instead of exhausting memory: the rendered text, and
// range()'s length (as Jinja's sandbox bounds it).
inline constexpr uint64_t kMaxRenderBytes = uint64_t(16) << 20;
inline constexpr int64_t kMaxRange = 100000;
inline constexpr int kMaxValueDepth = 64;

// Before `item` is stored inside `container` (list.append/extend, namespace attribute set): throws
// when that would make a cycle (shared containers would never be freed) or nest values deeper
// than kMaxValueDepth (printing and freeing them recurse once per level). A container that is not
// a list or dict (e.g. undefined, for a new literal) checks the depth alone.
void CheckInsert(const Value& container, const Value& item, int line);

bool IsKnownFilter(std::string_view name);
bool IsKnownTest(std::string_view name);
// Errors are jinja::Error at `line`.
Value ApplyFilter(const std::string& name, const Value& value, const Args& args, int line);
bool ApplyTest(const std::string& name, const Value& value, const Args& args, int line);
// obj.name(args) for the built-in methods of strings, lists and dicts; nullopt if there is none.
std::optional<Value> CallMethod(const Value& obj, const std::string& name, const Args& args, int line);
// range, namespace, dict, raise_exception, strftime_now; undefined if `name` is none of them.
Value GlobalFunction(const std::string& name, int line);

// What `for` iterates: list items, dict keys, string characters; undefined iterates as empty.
std::vector<Value> Iterate(const Value& value, int line);

}  // namespace vkg::jinja
