// Shared by the serve tests: a servable tiny model directory (tests/data/gemma4-tiny/dense, vocab
// 256, with the byte-level tokenizer of tests/generate/data), made once per process.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <string>

namespace vkg::serve_test {

inline const std::filesystem::path& TinyModelDir() {
  namespace fs = std::filesystem;
  static const fs::path dir = [] {
    const fs::path d = fs::temp_directory_path() / ("vkg_serve_model_" + std::to_string(::getpid())) / "gemma4-tiny";
    fs::remove_all(d.parent_path());
    fs::create_directories(d);
    const fs::path data(VKG_TEST_DATA_DIR);
    fs::copy_file(data / "gemma4-tiny/dense/config.json", d / "config.json");
    fs::copy_file(data / "gemma4-tiny/dense/model.safetensors", d / "model.safetensors");
    fs::copy_file(fs::path(VKG_SOURCE_DIR) / "tests/generate/data/tokenizer.json", d / "tokenizer.json");
    return d;
  }();
  return dir;
}

inline void RemoveTinyModelDir() {
  std::filesystem::remove_all(std::filesystem::temp_directory_path() /
                              ("vkg_serve_model_" + std::to_string(::getpid())));
}

}  // namespace vkg::serve_test
