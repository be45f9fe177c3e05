#include "tokenizer/sp_model.h"

#include <sentencepiece_processor.h>

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
  }

  // SentencePiece never matches control pieces (<bos>, <eos>, <pad>) in text and always matches
  // user-defined pieces: the same policy as Tokenizer::Encode documents.
  std::vector<int32_t> Encode(std::string_view text) const override {
    std::vector<int> ids;
    const auto status = sp_.Encode(std::string(text), &ids);
    if (!status.ok()) throw TokenizerError("tokenizer: '" + path_ + "': " + status.ToString());
    return std::vector<int32_t>(ids.begin(), ids.end());
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
};

}  // namespace

std::shared_ptr<const Backend> LoadSentencePiece(const std::string& path) {
  return std::make_shared<const SpBackend>(path);
}

}  // namespace vkg::tok::detail
