// The one error type for setup failures: bad checkpoint files, configs, shapes (layer: host/model).
// Messages are one line naming the file or tensor and what was expected vs found; `main` prints
// them as "error: <message>". GPU-side error types derive from this one.
#pragma once
#include <stdexcept>
#include <string>

namespace vkg {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace vkg
