// Test data of tests/image: tests/data/gemma4-image (made once by its make_fixtures.py from Hugging
// Face's Gemma4ImageProcessorPil and PIL) and its manifest.json.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vkg::image::test {

inline std::filesystem::path DataDir() { return std::filesystem::path(VKG_TEST_DATA_DIR) / "gemma4-image"; }

inline const nlohmann::json& Manifest() {
  static const nlohmann::json m = [] {
    std::ifstream in(DataDir() / "manifest.json");
    return nlohmann::json::parse(in);
  }();
  return m;
}

inline std::vector<uint8_t> ReadBytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace vkg::image::test
