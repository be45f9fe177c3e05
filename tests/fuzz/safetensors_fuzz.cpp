// libFuzzer target: one .safetensors file (header length, JSON header, dtypes, shapes, offsets).
#include <exception>

#include "host/model/safetensors.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = vkg::fuzz::WriteInput(data, size, "model.safetensors");
  try {
    const auto f = vkg::SafetensorsFile::Open(path);
    for (const auto& t : f->tensors()) {
      if (t.is_float && t.size <= (1u << 16)) (void)vkg::ToFloat32(t);
    }
  } catch (const std::exception&) {
  }
  return 0;
}
