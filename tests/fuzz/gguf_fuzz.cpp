// libFuzzer target: the GGUF reader on arbitrary bytes (host/model/gguf/gguf_file.h), the typed
// metadata reads the model loader makes, and the tokenizer rebuilt from a file's tokenizer.ggml.*
// vocabulary (host/text/gguf_tokenizer.h), as `run -m x.gguf` builds it.
#include <exception>
#include <span>

#include "host/model/gguf/gguf_file.h"
#include "host/text/gguf_tokenizer.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto f = vkg::GgufFile::Parse(std::span<const uint8_t>(data, size), "fuzz.gguf");
    for (const auto& t : f->tensors()) (void)t.Shape();
    for (const char* key : {"general.architecture", "gemma4.block_count", "gemma4.final_logit_softcapping"}) {
      try {
        (void)f->GetString(key);
      } catch (const std::exception&) {
      }
      try {
        (void)f->GetInt(key);
      } catch (const std::exception&) {
      }
    }
    try {
      const tok::Tokenizer t = tok::Tokenizer::FromHfJson(vkg::GgufTokenizerJson(*f), "fuzz.gguf");
      (void)t.Decode(t.Encode("a b"));
    } catch (const std::exception&) {
    }
  } catch (const std::exception&) {
  }
  return 0;
}
