// Subcommands of the vkgemma CLI (layer: tools). Each returns the process exit code; bad usage
// throws UsageError (exit 2), other failures throw and exit 1 with one `error:` line.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace vkg::cli {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

int Devices(const std::vector<std::string>& args);
int Logits(const std::vector<std::string>& args);
int Info(const std::vector<std::string>& args);
int Run(const std::vector<std::string>& args);
int Chat(const std::vector<std::string>& args);
int Tokenize(const std::vector<std::string>& args);
int Bench(const std::vector<std::string>& args);
int Compare(const std::vector<std::string>& args);
int Serve(const std::vector<std::string>& args);
int Selftest(const std::vector<std::string>& args);

}  // namespace vkg::cli
