// Internal: where a text holds added tokens (tokenizer.json "added_tokens", SentencePiece control
// pieces), found before normalization and pre-tokenization, as the Hugging Face tokenizers library
// finds them: leftmost match first, the longest one where several start at the same place, each
// match consuming its text whether it is kept or not, and the flags single_word, lstrip and rstrip
// honoured.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/bpe_text.h"

namespace vkg::tok::detail {

// What Hugging Face calls an AddedToken's options (the "normalized" flag picks the set, below).
struct AddedTokenFlags {
  bool special = false;      // a control token: left out of the text by split_special_tokens=True
  bool single_word = false;  // only matched with no word character directly before or after it
  bool lstrip = false;       // swallows the whitespace before it
  bool rstrip = false;       // swallows the whitespace after it
};

// Two sets, as Hugging Face keeps them: tokens matched in the raw text ("normalized": false) and
// tokens matched in the normalizer's output ("normalized": true; their pattern is the content
// after the same normalizer, which the caller applies).
class AddedTokens {
 public:
  enum class Set { kRaw, kNormalized };
  // The first token added with a pattern wins it (as the trie keeps it).
  void Add(Set set, std::string_view pattern, int32_t id, const AddedTokenFlags& flags);

  // Splits text into runs of text (id -1) and matched tokens (id >= 0). With skip_special, special
  // tokens are not kept: their text stays in the neighbouring run and, as in Hugging Face, no other
  // token is looked for inside it. A token's segment includes the whitespace lstrip/rstrip took;
  // that whitespace is in no text run.
  std::vector<Segment> Split(Set set, std::string_view text, bool skip_special) const;

 private:
  const TokenTrie& trie(Set set) const { return set == Set::kRaw ? raw_ : normalized_; }
  TokenTrie raw_, normalized_;
  std::unordered_map<int32_t, AddedTokenFlags> flags_;  // by id
};

// Bytes of the Unicode whitespace (White_Space, what the regex \s matches) that ends s / starts s.
size_t TrailingSpaceBytes(std::string_view s);
size_t LeadingSpaceBytes(std::string_view s);
// Whether the last / first character of s is a word character (the regex \w: letters, marks,
// digits, connector punctuation). False for an empty s.
bool EndsWithWordChar(std::string_view s);
bool StartsWithWordChar(std::string_view s);

}  // namespace vkg::tok::detail
