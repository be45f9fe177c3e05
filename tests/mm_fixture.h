// The multimodal fixtures of tests/data/gemma4-mm (made by Hugging Face's own Gemma 4 code): the
// prompt, each image's patches as HF's processor made them, HF's soft tokens and logits
// (layer: tests). Header-only: CPU and GPU tests share it.
#pragma once
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/error.h"
#include "host/model/image_patches.h"

namespace vkg::test {

struct MmFixture {
  std::filesystem::path dir;
  std::vector<int32_t> tokens;       // BOI, image_token_id x soft, EOI, ... as HF's processor builds them
  std::vector<ImagePatches> images;  // in prompt order
  std::vector<float> soft_tokens;    // [sum of soft][H]: every image's, in order
  std::vector<float> logits;         // [tokens][vocab]
  int vocab = 0;
};

inline std::vector<char> ReadBytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Error("cannot read " + p.string());
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

inline std::vector<float> ReadF32(const std::filesystem::path& p) {
  const std::vector<char> b = ReadBytes(p);
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

inline std::filesystem::path MmFixtureDir(const std::string& name) {
  return std::filesystem::path(VKG_TEST_DATA_DIR) / "gemma4-mm" / name;
}

// A fixture stored without its text weights (tests/data/gemma4-mm/ple-vision-audio): its files
// (model.safetensors.index.json, towers.safetensors, ...) copied into `into` with the text shard it
// names, text.safetensors, copied from the text fixture it was made from (gemma4-tiny/ple: the same
// bytes), so that the repository holds those 1.9 MB once. Returns `into`.
inline std::filesystem::path AssembleSplitMmFixture(const std::string& name, const std::filesystem::path& into,
                                                    const std::string& text_fixture = "ple") {
  namespace fs = std::filesystem;
  fs::create_directories(into);
  for (const auto& e : fs::directory_iterator(MmFixtureDir(name)))
    if (e.is_regular_file()) fs::copy_file(e.path(), into / e.path().filename(), fs::copy_options::overwrite_existing);
  fs::copy_file(fs::path(VKG_TEST_DATA_DIR) / "gemma4-tiny" / text_fixture / "model.safetensors",
                into / "text.safetensors", fs::copy_options::overwrite_existing);
  return into;
}

// Pixels are stored as the 8-bit values HF's processor rescaled: float32(u8 / 255) is exactly its
// pixel_values (checked when the fixture was copied).
inline MmFixture LoadMmFixture(const std::string& name) {
  MmFixture f;
  f.dir = MmFixtureDir(name);
  const auto expected = nlohmann::json::parse(ReadBytes(f.dir / "expected.json"));
  for (const auto& t : expected.at("tokens")) f.tokens.push_back(t.get<int32_t>());
  f.vocab = expected.at("vocab").get<int>();
  const auto patches = nlohmann::json::parse(ReadBytes(f.dir / "patches.json"));
  for (const auto& im : patches.at("images")) {
    const std::vector<char> u8 = ReadBytes(f.dir / im.at("pixels").get<std::string>());
    std::vector<float> px(u8.size());
    for (size_t i = 0; i < u8.size(); ++i) px[i] = float(double(uint8_t(u8[i])) / 255.0);
    f.images.push_back(ImagePatches::Grid(im.at("grid")[0].get<int>(), im.at("grid")[1].get<int>(), std::move(px)));
  }
  f.soft_tokens = ReadF32(f.dir / "soft_tokens.f32");
  f.logits = ReadF32(f.dir / "logits.f32");
  return f;
}

}  // namespace vkg::test
