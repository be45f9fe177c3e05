// vkg::jinja string helpers (UTF-8 aware where Python counts characters); all keep taint.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "host/text/jinja/value.h"

namespace vkg::jinja {

// Byte offsets of each character start, plus the end offset.
std::vector<size_t> CharOffsets(const std::string& s);
std::vector<Value> Chars(const Value& s);
size_t CharCount(const std::string& s);

Value Strip(const Value& s, const Value* chars, bool left, bool right);  // chars null/none: whitespace
std::vector<Value> Split(const Value& s, const Value* sep, int64_t maxsplit);
Value Replace(const Value& s, const std::string& from, const Value& to, int64_t count);
enum class Case { Upper, Lower, Title, Capitalize };
Value ChangeCase(const Value& s, Case c);  // ASCII letters only (keeps byte lengths)

}  // namespace vkg::jinja
