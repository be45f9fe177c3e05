// libFuzzer target: a Hugging Face tokenizer.json; when it loads, a fixed text goes through Encode
// and Decode (the structures the file built are used, not just parsed).
#include <exception>

#include "tests/fuzz/fuzz_util.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = vkg::fuzz::WriteInput(data, size, "tokenizer.json");
  try {
    const auto t = vkg::tok::Tokenizer::LoadFile(path.string());
    const auto ids = t.Encode("Hello <bos> wörld\n\n  12 ☃ \xff");
    (void)t.Decode(ids);
    (void)t.PieceToId("<eos>");
  } catch (const std::exception&) {
  }
  return 0;
}
