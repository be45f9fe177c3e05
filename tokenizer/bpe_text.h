// Internal: the text stages of a tokenizer.json pipeline (the trie added tokens are found with,
// normalizer, pre-tokenizer, decoder), each parsed from its JSON section.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace vkg::tok::detail {

struct StrHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StrIdMap = std::unordered_map<std::string, int32_t, StrHash, std::equal_to<>>;

// "<0xNN>" (two hex digits): a byte-fallback piece.
bool IsBytePiece(std::string_view piece, uint8_t* byte = nullptr);

// A piece of text, or an added token (id >= 0) that was found in it.
struct Segment {
  std::string_view text;
  int32_t id = -1;
};

// Byte trie over added-token strings.
class TokenTrie {
 public:
  void Insert(std::string_view s, int32_t id);
  // The longest string of the trie that starts at text[pos]: its id and length; {-1, 0} if none.
  std::pair<int32_t, size_t> LongestAt(std::string_view text, size_t pos) const;
  bool empty() const { return nodes_.size() == 1; }

 private:
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> kids;  // sorted by byte
    int32_t id = -1;
  };
  int32_t Child(int32_t node, uint8_t b) const;
  std::vector<Node> nodes_{Node{}};
  bool starts_[256] = {};
};

// normalizer: null, Replace (string pattern), Prepend, or a Sequence of those.
class Normalizer {
 public:
  bool Parse(const nlohmann::json& j, std::string* err);
  std::string Apply(std::string_view s) const;

 private:
  struct Step {
    bool prepend;
    std::string from, to;
  };
  std::vector<Step> steps_;
};

// pre_tokenizer: null (the whole section is one word) or Split on a string pattern.
class PreTokenizer {
 public:
  bool Parse(const nlohmann::json& j, std::string* err);
  void ForEachWord(std::string_view s, const std::function<void(std::string_view)>& fn) const;

 private:
  bool split_ = false;
  std::string pattern_;
  std::string behavior_;
};

// decoder: null (tokens joined by " "), or Replace / ByteFallback / Fuse / Strip, or a Sequence.
class DecoderChain {
 public:
  bool Parse(const nlohmann::json& j, std::string* err);
  std::string Apply(std::vector<std::string> tokens) const;

 private:
  enum class Kind { kReplace, kByteFallback, kFuse, kStrip };
  struct Step {
    Kind kind;
    std::string from, to;  // Replace; Strip uses `from` as the character
    int start = 0, stop = 0;
  };
  bool ParseOne(const nlohmann::json& j, std::string* err);
  bool null_ = true;
  std::vector<Step> steps_;
};

}  // namespace vkg::tok::detail
