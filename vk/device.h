// Device enumeration, selection and the logical device with its compute queue (layer: vk).
#pragma once
#include <vulkan/vulkan.h>

#include <string>
#include <string_view>
#include <vector>

#include "vk/caps.h"
#include "vk/handle.h"

namespace vkg::vk {

class Instance;

struct PhysicalDeviceEntry {
  VkPhysicalDevice handle = VK_NULL_HANDLE;
  DeviceCaps caps;
};

// Every usable device, in the default preference order (discrete GPU, integrated, virtual, CPU,
// other; ties keep the driver's order). The same GPU exposed by two drivers (same PCI address, or
// the same device UUID) is listed once: the first driver's entry is kept.
std::vector<PhysicalDeviceEntry> ListDevices(const Instance& instance);
// The ordering and de-duplication ListDevices applies (separate so it can be tested).
std::vector<PhysicalDeviceEntry> OrderAndDeduplicate(std::vector<PhysicalDeviceEntry> devices);

// Picks a device by selector: "" (first in the default order), an index into ListDevices ("0",
// "1", ...) or a case-insensitive substring of the device name. Throws vk::Error listing the
// devices when nothing matches.
const PhysicalDeviceEntry& SelectDevice(const std::vector<PhysicalDeviceEntry>& devices, std::string_view selector);

// Device::DeviceLocalBudget before a device is opened (vkgemma info).
uint64_t DeviceLocalBudget(VkPhysicalDevice physical, const DeviceCaps& caps);

// The selector from VKGEMMA_DEVICE, or "" when unset.
std::string DeviceSelectorFromEnv();

class Device {
 public:
  Device(const Instance& instance, const PhysicalDeviceEntry& entry);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  VkDevice handle() const { return device_; }
  VkPhysicalDevice physical() const { return physical_; }
  VkQueue queue() const { return queue_; }
  uint32_t queue_family() const { return queue_family_; }
  const DeviceCaps& caps() const { return caps_; }
  const Instance& instance() const { return instance_; }

  // Memory type index with all `required` flags, preferring `preferred` ones; throws if none.
  uint32_t FindMemoryType(uint32_t type_bits, VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred) const;

  // VK_EXT_memory_budget's heapBudget of the largest device-local heap, read now: what this process
  // may hold on that heap (its own allocations included) before allocations fail or slow down,
  // given what other processes use. 0 when the device does not list the extension.
  uint64_t DeviceLocalBudget() const;

  // Gives a Vulkan object a debug name (visible in validation messages and GPU debuggers).
  void SetName(VkObjectType type, uint64_t handle, const std::string& name) const;

 private:
  const Instance& instance_;
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  DeviceCaps caps_;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t queue_family_ = 0;
  VkPhysicalDeviceMemoryProperties memory_{};
  PFN_vkSetDebugUtilsObjectNameEXT set_name_ = nullptr;
};

}  // namespace vkg::vk
