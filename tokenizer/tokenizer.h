// vkg::tok::Tokenizer: text <-> token ids. Knows Hugging Face tokenizer.json (BPE, implemented here)
// and SentencePiece .model files (through libsentencepiece). Knows nothing of Gemma or chat markup:
// turn markup is built elsewhere from PieceToId().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace vkg::tok {

// Every load/format problem is reported as one line naming the file.
class TokenizerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
class Backend;
}

// What Encode does with the strings of added tokens found in the text: tokenizer.json's
// "added_tokens" (special or not) and a SentencePiece model's control pieces. One rule for every
// added token, Hugging Face's:
enum class SpecialTokens {
  // Hugging Face's default (`tokenizer.encode(text)`): every added token, special or not, is
  // matched in the text before it is normalized and split, longest first, with the token's
  // single_word / lstrip / rstrip / normalized flags: "<bos>" in the text becomes the <bos> id.
  kMatch,
  // Hugging Face's split_special_tokens=True: special tokens ("special": true; SentencePiece
  // control and unknown pieces) are never matched, so their strings are tokenized as text.
  // Non-special added tokens ("\n\n", "<b>", "<unused0>"; SentencePiece user-defined pieces)
  // are still matched: they are part of how the model's text was tokenized in training.
  // The mode for text a user or client typed: it can never become a control token.
  kAsText,
};

class Tokenizer {
 public:
  // Loads <model_dir>/tokenizer.json if present, else <model_dir>/tokenizer.model.
  static Tokenizer Load(const std::string& model_dir);
  // Loads one file: "*.json" as a Hugging Face tokenizer.json, anything else as a SentencePiece model.
  static Tokenizer LoadFile(const std::string& path);
  // A Hugging Face tokenizer.json document already in memory (e.g. rebuilt from a GGUF file's
  // vocabulary); `name` is named in errors and returned by path().
  static Tokenizer FromHfJson(const nlohmann::json& doc, const std::string& name);

  // Text -> ids, as SpecialTokens says. Adds no BOS/EOS (Hugging Face's add_special_tokens=False).
  // Invalid UTF-8 bytes are encoded through byte fallback (<0xNN>) where the vocab has it.
  std::vector<int32_t> Encode(std::string_view text, SpecialTokens mode = SpecialTokens::kMatch) const;

  // Ids -> text, exactly as the file's decoder says (special tokens are rendered as their text,
  // e.g. "<bos>"). Ids outside the vocab are skipped (as Hugging Face tokenizers does).
  std::string Decode(std::span<const int32_t> ids) const;

  // The piece string for an id ("▁the", "<0x0A>", "<bos>"); throws TokenizerError when out of range.
  std::string IdToPiece(int32_t id) const;
  // The id of a piece, including special and added tokens ("<bos>", "<|turn>"); nullopt if none.
  std::optional<int32_t> PieceToId(std::string_view piece) const;
  // Number of ids (one past the largest id, added tokens included).
  int32_t vocab_size() const;
  // True for special/control tokens (tokenizer.json "special": true; SentencePiece control/unknown).
  bool IsSpecial(int32_t id) const;
  // The file this tokenizer was loaded from.
  const std::string& path() const;

 private:
  explicit Tokenizer(std::shared_ptr<const detail::Backend> impl) : impl_(std::move(impl)) {}
  friend class StreamDecoder;
  std::shared_ptr<const detail::Backend> impl_;
};

// Turns ids into UTF-8 text incrementally (for printing generated tokens as they come). Every
// returned chunk is valid UTF-8: byte-fallback pieces (<0xE4><0xBD><0xA0>) are held back until the
// character is complete. When all byte groups are valid UTF-8 (always true for Encode() output),
// the concatenation of all chunks equals Decode(all ids). Bytes that can never form a character
// come out as U+FFFD. Keeps its own copy of the tokenizer (cheap: shared, immutable).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer) : tok_(tokenizer) {}
  // Adds one id; returns the text that is now final (possibly empty).
  std::string Push(int32_t id);
  // Returns whatever is still held (incomplete bytes become U+FFFD) and resets the decoder.
  std::string Finish();

 private:
  Tokenizer tok_;
  std::vector<int32_t> ids_;
  size_t prefix_ = 0;  // ids_[prefix_, read_) were already emitted; kept as decoding context
  size_t read_ = 0;
};

// True if s is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace vkg::tok
