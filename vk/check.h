// Error type and result checking for the Vulkan layer (layer: vk).
// Every VkResult goes through VK_CHECK; invariants through VKG_CHECK. Both throw vk::Error.
#pragma once
#include <vulkan/vulkan.h>

#include <sstream>
#include <stdexcept>
#include <string>

namespace vkg::vk {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Thrown when the device is lost; the message names the last op that was submitted.
class DeviceLostError : public Error {
 public:
  using Error::Error;
};

const char* ResultName(VkResult r);

[[noreturn]] void ThrowResult(VkResult r, const char* expr, const char* file, int line);

template <typename... Args>
std::string Concat(const Args&... args) {
  std::ostringstream s;
  (s << ... << args);
  return s.str();
}

}  // namespace vkg::vk

#define VK_CHECK(expr)                                                                             \
  do {                                                                                             \
    const VkResult vkg_result_ = (expr);                                                           \
    if (vkg_result_ != VK_SUCCESS) ::vkg::vk::ThrowResult(vkg_result_, #expr, __FILE__, __LINE__); \
  } while (0)

#define VKG_CHECK(cond, ...)                                             \
  do {                                                                   \
    if (!(cond)) throw ::vkg::vk::Error(::vkg::vk::Concat(__VA_ARGS__)); \
  } while (0)
