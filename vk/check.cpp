// VkResult names and the throwing helper behind VK_CHECK (layer: vk).
#include "vk/check.h"

#include <cstring>

namespace vkg::vk {

const char* ResultName(VkResult r) {
  switch (r) {
#define VKG_CASE(x) \
  case x: return #x;
    VKG_CASE(VK_SUCCESS)
    VKG_CASE(VK_NOT_READY)
    VKG_CASE(VK_TIMEOUT)
    VKG_CASE(VK_INCOMPLETE)
    VKG_CASE(VK_ERROR_OUT_OF_HOST_MEMORY)
    VKG_CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    VKG_CASE(VK_ERROR_INITIALIZATION_FAILED)
    VKG_CASE(VK_ERROR_DEVICE_LOST)
    VKG_CASE(VK_ERROR_MEMORY_MAP_FAILED)
    VKG_CASE(VK_ERROR_LAYER_NOT_PRESENT)
    VKG_CASE(VK_ERROR_EXTENSION_NOT_PRESENT)
    VKG_CASE(VK_ERROR_FEATURE_NOT_PRESENT)
    VKG_CASE(VK_ERROR_INCOMPATIBLE_DRIVER)
    VKG_CASE(VK_ERROR_TOO_MANY_OBJECTS)
    VKG_CASE(VK_ERROR_FORMAT_NOT_SUPPORTED)
    VKG_CASE(VK_ERROR_FRAGMENTED_POOL)
    VKG_CASE(VK_ERROR_UNKNOWN)
    VKG_CASE(VK_ERROR_OUT_OF_POOL_MEMORY)
    VKG_CASE(VK_ERROR_INVALID_EXTERNAL_HANDLE)
    VKG_CASE(VK_ERROR_FRAGMENTATION)
    VKG_CASE(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
    VKG_CASE(VK_PIPELINE_COMPILE_REQUIRED)
    VKG_CASE(VK_ERROR_VALIDATION_FAILED_EXT)
#undef VKG_CASE
    default: return "VK_RESULT_UNKNOWN";
  }
}

void ThrowResult(VkResult r, const char* expr, const char* file, int line) {
  const char* base = std::strrchr(file, '/');
  std::string msg =
      Concat("Vulkan call failed: ", ResultName(r), " from ", expr, " (", base ? base + 1 : file, ":", line, ")");
  if (r == VK_ERROR_DEVICE_LOST) throw DeviceLostError(msg);
  if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY) {
    throw Error(Concat("out of device memory (", ResultName(r), " from ", expr, ")"));
  }
  throw Error(msg);
}

}  // namespace vkg::vk
