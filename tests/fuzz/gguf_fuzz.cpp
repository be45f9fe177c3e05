// libFuzzer target: the GGUF reader on arbitrary bytes (host/model/gguf/gguf_file.h), and the typed
// metadata reads the model loader makes.
#include <exception>
#include <span>

#include "host/model/gguf/gguf_file.h"

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
  } catch (const std::exception&) {
  }
  return 0;
}
