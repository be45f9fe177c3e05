// Running the vkgemma binary from a test (layer: tests), as ctest runs the GPU tests: with the
// Vulkan validation layers on (a message would show on its stderr) and lavapipe's dispatches on the
// queue thread. Header-only, for every test target that drives the binary; needs VKG_BINARY_DIR.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace vkg::test {

struct CommandOutput {
  int rc = -1;  // the exit status; -1 when it did not start or did not exit normally
  std::string out, err;
};

// `args`: the shell words after `vkgemma`. Returns its exit status, stdout and stderr apart.
inline CommandOutput RunVkgemma(const std::string& args) {
  static std::atomic<int> calls{0};
  const std::filesystem::path err_file =
      std::filesystem::temp_directory_path() /
      ("vkg_vkgemma_stderr_" + std::to_string(::getpid()) + "_" + std::to_string(calls++));
  const std::string cmd = "env VKGEMMA_VALIDATION=1 LP_NUM_THREADS=0 " + std::string(VKG_BINARY_DIR) +
                          "/tools/vkgemma " + args + " 2>" + err_file.string();
  CommandOutput o;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return o;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) o.out.append(buf, n);
  const int status = ::pclose(p);
  o.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  o.err = ss.str();
  std::filesystem::remove(err_file);
  return o;
}

}  // namespace vkg::test
