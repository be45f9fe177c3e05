// libFuzzer target: generation_config.json text.
#include <exception>
#include <string>

#include "host/text/generation_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)vkg::GenerationConfig::Parse(std::string(reinterpret_cast<const char*>(data), size),
                                       "generation_config.json");
  } catch (const std::exception&) {
  }
  return 0;
}
