// `vkgemma tokenize`: a text's token ids with a checkpoint's tokenizer; loads nothing else (layer: tools).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <string>

#include "host/error.h"
#include "host/text/gguf_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tools/cli/commands.h"
#include "tools/cli/options.h"

namespace vkg::cli {
namespace {

constexpr const char* kUsage =
    "usage: vkgemma tokenize -m DIR [--plain] [--pieces] TEXT\n"
    "Encodes TEXT ('-' reads stdin as is) with DIR's tokenizer.json (or tokenizer.model) as Hugging\n"
    "Face's tokenizer does by default (encode without <bos>): every added token written in the text,\n"
    "special or not (<bos>, <start_of_turn>, <unused0>, <b>), becomes its id. Prints the ids on one\n"
    "line, separated by spaces.\n"
    "  -m, --model DIR     checkpoint directory (only its tokenizer is read)\n"
    "  --plain             special tokens' text stays text (\"<bos>\" is tokenized like any\n"
    "                      other text), as in chat messages: Hugging Face's split_special_tokens=True.\n"
    "                      Non-special added tokens (<unused0>, <b>, runs of newlines) still match:\n"
    "                      they are how the model's text was tokenized in training\n"
    "  --pieces            one token per line instead: ID, a tab, the piece (control bytes escaped)\n";

std::string Escaped(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out;
}

}  // namespace

int Tokenize(const std::vector<std::string>& args) {
  std::string model_dir;
  bool pieces = false;
  tok::SpecialTokens mode = tok::SpecialTokens::kMatch;
  OptionParser parser("tokenize");
  parser.Value({"-m", "--model"}, [&](const std::string& v) { model_dir = v; })
      .Flag({"--plain"}, [&] { mode = tok::SpecialTokens::kAsText; })
      .Flag({"--pieces"}, [&] { pieces = true; });
  const auto positional = parser.Parse(args);
  if (positional.size() == 1 && positional[0] == "--help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (model_dir.empty()) throw UsageError("tokenize needs --model DIR");
  if (positional.size() != 1) throw UsageError("tokenize needs exactly one TEXT argument ('-' for stdin)");
  CheckModelPath(model_dir);
  std::string text = positional[0];
  if (text == "-") text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());

  const tok::Tokenizer tokenizer = LoadModelTokenizer(model_dir);
  const std::vector<int32_t> ids = tokenizer.Encode(text, mode);
  std::string out;
  for (int32_t id : ids) {
    if (pieces) {
      out += std::to_string(id) + "\t" + Escaped(tokenizer.IdToPiece(id)) + "\n";
    } else {
      if (!out.empty()) out += ' ';
      out += std::to_string(id);
    }
  }
  if (!pieces) out += "\n";
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace vkg::cli
