// The one error type for setup failures: bad checkpoint files, configs, shapes (layer: host, all libraries).
// Messages are one line naming the file or tensor and what was expected vs found; `main` prints
// them as "error: <message>". GPU-side failures throw vk::Error (vk/check.h) instead, which does not
// derive from this one (both are std::runtime_error, which `main` catches).
#pragma once
#include <stdexcept>
#include <string>

namespace vkg {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace vkg
