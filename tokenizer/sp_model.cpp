#include "tokenizer/sp_model.h"

#include <sentencepiece_processor.h>

#include "tokenizer/added_tokens.h"
#include "tokenizer/tokenizer.h"

namespace vkg::tok::detail {
namespace {

class SpBackend final : public Backend {
 public:
  explicit SpBackend(const std::string& path) {
    path_ = path;
    const auto status = sp_.Load(path);
    if (!status.ok()) {
      throw TokenizerError("tokenizer: '" + path + "' is not a valid SentencePiece model");
    }
    // Control and unknown pieces are the special tokens; SentencePiece itself never matches them
    // in text, so SpecialTokens::kMatch finds them first (as transformers' SentencePiece-based
    // tokenizers do with their special tokens). User-defined pieces SentencePiece always matches.
    for (int id = 0; id < sp_.GetPieceSize(); ++id) {
      if (sp_.IsControl(id) || sp_.IsUnknown(id)) {
        specials_.Add(AddedTokens::Set::kRaw, sp_.IdToPiece(id), id, AddedTokenFlags{.special = true});
      }
    }
  }

  // kAsText: the text as SentencePiece encodes it. kMatch: special pieces split out first, each
  // run of text between them encoded on its own.
  std::vector<int32_t> Encode(std::string_view text, SpecialTokens mode) const override {
    std::vector<int32_t> out;
    const bool skip_special = mode == SpecialTokens::kAsText;
    for (const Segment& seg : specials_.Split(AddedTokens::Set::kRaw, text, skip_special)) {
      if (seg.id >= 0) {
        out.push_back(seg.id);
        continue;
      }
      if (seg.text.empty()) continue;
      std::vector<int> ids;
      const auto status = sp_.Encode(std::string(seg.text), &ids);
      if (!status.ok()) throw TokenizerError("tokenizer: '" + path_ + "': " + status.ToString());
      out.insert(out.end(), ids.begin(), ids.end());
    }
    return out;
  }

  // SentencePiece decodes control pieces to nothing; render them as their text instead (like
  // tokenizer.json decoding without skip_special_tokens), decoding the runs between with SentencePiece.
  std::string Decode(std::span<const int32_t> ids) const override {
    std::string out;
    std::vector<int> run;
    const auto flush = [&] {
      if (run.empty()) return;
      std::string text;
      const auto status = sp_.Decode(run, &text);
      if (!status.ok()) throw TokenizerError("tokenizer: '" + path_ + "': " + status.ToString());
      out += text;
      run.clear();
    };
    const int n = sp_.GetPieceSize();
    for (const int32_t id : ids) {
      if (id < 0 || id >= n) continue;
      if (sp_.IsControl(id)) {
        flush();
        out += sp_.IdToPiece(id);
      } else {
        run.push_back(id);
      }
    }
    flush();
    return out;
  }

  std::optional<std::string> IdToPiece(int32_t id) const override {
    if (id < 0 || id >= sp_.GetPieceSize()) return std::nullopt;
    return sp_.IdToPiece(id);
  }

  std::optional<int32_t> PieceToId(std::string_view piece) const override {
    const int id = sp_.PieceToId(std::string(piece));
    if (id < 0 || id >= sp_.GetPieceSize() || sp_.IdToPiece(id) != piece) return std::nullopt;
    return id;
  }

  int32_t VocabSize() const override { return sp_.GetPieceSize(); }

  bool IsSpecial(int32_t id) const override {
    if (id < 0 || id >= sp_.GetPieceSize()) return false;
    return sp_.IsControl(id) || sp_.IsUnknown(id);
  }

 private:
  sentencepiece::SentencePieceProcessor sp_;
  AddedTokens specials_;  // control and unknown pieces
};

}  // namespace

std::shared_ptr<const Backend> LoadSentencePiece(const std::string& path) {
  return std::make_shared<const SpBackend>(path);
}

}  // namespace vkg::tok::detail
