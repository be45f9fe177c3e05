// Internal: the interface both tokenizer formats implement, and small UTF-8 helpers.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace vkg::tok::detail {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::vector<int32_t> Encode(std::string_view text, SpecialTokens mode) const = 0;
  virtual std::string Decode(std::span<const int32_t> ids) const = 0;
  virtual std::optional<std::string> IdToPiece(int32_t id) const = 0;
  virtual std::optional<int32_t> PieceToId(std::string_view piece) const = 0;
  virtual int32_t VocabSize() const = 0;
  virtual bool IsSpecial(int32_t id) const = 0;
  const std::string& path() const { return path_; }

 protected:
  std::string path_;
};

// Length in bytes of the well-formed UTF-8 character starting at s[i], or 0 if the bytes there
// are not one (invalid lead byte, bad continuation, overlong, surrogate, > U+10FFFF, truncated).
size_t Utf8CharLen(std::string_view s, size_t i);
// Code point of the well-formed character of length len at s[i].
uint32_t Utf8Decode(std::string_view s, size_t i, size_t len);

}  // namespace vkg::tok::detail
