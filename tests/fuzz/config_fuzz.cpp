// libFuzzer target: config.json (text_config or flat, every field the model reads, layer types).
#include <exception>

#include <nlohmann/json.hpp>

#include "host/model/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json doc = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;
  try {
    (void)vkg::ParseConfig(doc, "config.json");
  } catch (const std::exception&) {
  }
  return 0;
}
