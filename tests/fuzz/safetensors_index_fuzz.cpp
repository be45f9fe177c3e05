// libFuzzer target: model.safetensors.index.json (its weight_map naming shards), beside one small
// valid shard, through WeightsFile::Open, the checkpoint loader's entry point.
#include <cstring>
#include <exception>
#include <fstream>

#include "host/model/safetensors.h"
#include "tests/fuzz/fuzz_util.h"

namespace {
// A valid one-tensor shard "model-00001-of-00001.safetensors" the index may point at.
void WriteShard() {
  static bool done = false;
  if (done) return;
  done = true;
  const std::string header = R"({"model.language_model.norm.weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const uint64_t n = header.size();
  std::ofstream out(vkg::fuzz::ScratchDir() / "model-00001-of-00001.safetensors", std::ios::binary);
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << header;
  const float v[2] = {1.f, 2.f};
  out.write(reinterpret_cast<const char*>(v), 8);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  WriteShard();
  vkg::fuzz::WriteInput(data, size, "model.safetensors.index.json");
  try {
    const auto w = vkg::WeightsFile::Open(vkg::fuzz::ScratchDir());
    (void)w.Find("norm.weight");
  } catch (const std::exception&) {
  }
  return 0;
}
