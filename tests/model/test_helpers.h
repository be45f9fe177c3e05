// Shared helpers for the CPU model tests (layer: tests/model): fixture paths, temp dirs, running
// the checkpoint generator, reading raw files.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "host/error.h"

namespace vkg::test {

inline std::filesystem::path FixtureDir(const std::string& variant) {
  return std::filesystem::path(VKG_TEST_DATA_DIR) / "gemma4-tiny" / variant;
}

// A fresh directory under the system temp dir, removed when the object goes away.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "vkg_" + tag + "_" + (info ? std::string(info->name()) : "x") + "_" + std::to_string(::getpid());
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs vkg_make_checkpoint with `args`; returns its exit status.
inline int RunMakeCheckpoint(const std::string& args, const std::string& redirect = "2>&1 >/dev/null") {
  const std::string cmd = std::string(VKG_BINARY_DIR) + "/tools/vkg_make_checkpoint " + args + " " + redirect;
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// n seeded token ids below vocab from a fixed LCG (the same ids with every standard library).
inline std::vector<int32_t> RandomTokens(int n, int vocab, uint32_t seed) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  uint32_t s = seed;
  for (int32_t& v : t) {
    s = s * 1664525u + 1013904223u;
    v = int32_t((s >> 8) % uint32_t(vocab));
  }
  return t;
}

// The same ids as a prompt: the first one <bos> (2).
inline std::vector<int32_t> RandomPrompt(int n, int vocab, uint32_t seed) {
  std::vector<int32_t> t = RandomTokens(n, vocab, seed);
  t[0] = 2;
  return t;
}

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

// Message of the vkg::Error that fn throws; fails the test if it throws nothing or another type.
inline std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const vkg::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected vkg::Error, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected vkg::Error, nothing was thrown";
  return "";
}

}  // namespace vkg::test
