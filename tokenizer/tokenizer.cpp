#include "tokenizer/tokenizer.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tokenizer/backend.h"
#include "tokenizer/hf_bpe.h"
#include "tokenizer/sp_model.h"

namespace vkg::tok {

namespace fs = std::filesystem;

namespace detail {

size_t Utf8CharLen(std::string_view s, size_t i) {
  const size_t n = s.size();
  if (i >= n) return 0;
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) return 1;
  size_t len;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlongs
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;  // no overlongs
    if (b0 == 0xF4) hi = 0x8F;  // <= U+10FFFF
  } else {
    return 0;
  }
  if (i + len > n) return 0;
  const auto b1 = static_cast<uint8_t>(s[i + 1]);
  if (b1 < lo || b1 > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if (b < 0x80 || b > 0xBF) return 0;
  }
  return len;
}

uint32_t Utf8Decode(std::string_view s, size_t i, size_t len) {
  const auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(s[i + k])); };
  switch (len) {
    case 1: return b(0);
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

}  // namespace detail

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t len = detail::Utf8CharLen(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

Tokenizer Tokenizer::Load(const std::string& model_dir) {
  std::error_code ec;
  if (!fs::is_directory(model_dir, ec)) {
    throw TokenizerError("tokenizer: '" + model_dir + "' is not a directory");
  }
  const fs::path json = fs::path(model_dir) / "tokenizer.json";
  if (fs::exists(json, ec)) return LoadFile(json.string());
  const fs::path model = fs::path(model_dir) / "tokenizer.model";
  if (fs::exists(model, ec)) return LoadFile(model.string());
  throw TokenizerError("tokenizer: no tokenizer.json or tokenizer.model in '" + model_dir + "'");
}

Tokenizer Tokenizer::LoadFile(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw TokenizerError("tokenizer: cannot open '" + path + "'");
  }
  if (fs::path(path).extension() == ".json") {
    return Tokenizer(detail::LoadHfBpe(path));
  }
  return Tokenizer(detail::LoadSentencePiece(path));
}

Tokenizer Tokenizer::FromHfJson(const nlohmann::json& doc, const std::string& name) {
  return Tokenizer(detail::LoadHfBpeJson(name, doc));
}

std::vector<int32_t> Tokenizer::Encode(std::string_view text, SpecialTokens mode) const {
  return impl_->Encode(text, mode);
}

std::string Tokenizer::Decode(std::span<const int32_t> ids) const { return impl_->Decode(ids); }

std::string Tokenizer::IdToPiece(int32_t id) const {
  std::optional<std::string> piece = impl_->IdToPiece(id);
  if (!piece) {
    throw TokenizerError("tokenizer: id " + std::to_string(id) + " is out of range [0, " +
                         std::to_string(impl_->VocabSize()) + ")");
  }
  return *piece;
}

std::optional<int32_t> Tokenizer::PieceToId(std::string_view piece) const { return impl_->PieceToId(piece); }

int32_t Tokenizer::vocab_size() const { return impl_->VocabSize(); }

bool Tokenizer::IsSpecial(int32_t id) const { return impl_->IsSpecial(id); }

const std::string& Tokenizer::path() const { return impl_->path(); }

// Streaming: decode a small window of ids (the last emitted ones as context, then the new ones) and
// emit what the new ids add. Text ending in U+FFFD is held back: it is (usually) a byte-fallback
// character still waiting for its remaining bytes.
namespace {

bool EndsWithReplacementChar(const std::string& s) {
  return s.size() >= 3 && s.compare(s.size() - 3, 3, "\xEF\xBF\xBD") == 0;
}

}  // namespace

std::string StreamDecoder::Push(int32_t id) {
  ids_.push_back(id);
  const std::span<const int32_t> all(ids_);
  const std::string prefix_text = tok_.Decode(all.subspan(prefix_, read_ - prefix_));
  const std::string new_text = tok_.Decode(all.subspan(prefix_));
  if (new_text.size() <= prefix_text.size() || EndsWithReplacementChar(new_text)) return {};
  std::string out;
  if (new_text.compare(0, prefix_text.size(), prefix_text) == 0) {
    out = new_text.substr(prefix_text.size());
  } else {
    // The new ids changed how the already-emitted ones decode (an invalid byte group). What was
    // emitted stays; emit the new ids on their own.
    out = tok_.Decode(all.subspan(read_));
  }
  prefix_ = read_;
  read_ = ids_.size();
  if (prefix_ > 256) {  // keep the window small
    ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(prefix_));
    read_ -= prefix_;
    prefix_ = 0;
  }
  return out;
}

std::string StreamDecoder::Finish() {
  const std::span<const int32_t> all(ids_);
  std::string out;
  if (read_ < ids_.size()) {
    const std::string prefix_text = tok_.Decode(all.subspan(prefix_, read_ - prefix_));
    const std::string new_text = tok_.Decode(all.subspan(prefix_));
    if (new_text.compare(0, prefix_text.size(), prefix_text) == 0) {
      out = new_text.substr(prefix_text.size());
    } else {
      out = tok_.Decode(all.subspan(read_));
    }
  }
  ids_.clear();
  prefix_ = read_ = 0;
  return out;
}

}  // namespace vkg::tok
