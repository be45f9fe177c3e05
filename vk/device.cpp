// Device listing, selection and logical-device creation (layer: vk).
#include "vk/device.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include "vk/check.h"
#include "vk/instance.h"

namespace vkg::vk {
namespace {

int TypeRank(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
    default: return 4;
  }
}

bool SameHardware(const DeviceCaps& a, const DeviceCaps& b) {
  if (a.has_pci_bus && b.has_pci_bus) {
    return a.pci_domain == b.pci_domain && a.pci_bus == b.pci_bus && a.pci_device == b.pci_device &&
           a.pci_function == b.pci_function;
  }
  return std::memcmp(a.device_uuid, b.device_uuid, VK_UUID_SIZE) == 0 && a.vendor_id == b.vendor_id &&
         a.device_id == b.device_id && a.type == b.type;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::vector<PhysicalDeviceEntry> OrderAndDeduplicate(std::vector<PhysicalDeviceEntry> devices) {
  std::vector<PhysicalDeviceEntry> out;
  for (auto& e : devices) {
    if (e.caps.api_version < VK_API_VERSION_1_2) continue;  // we need 1.2 features
    const bool dup =
        std::any_of(out.begin(), out.end(), [&](const PhysicalDeviceEntry& o) { return SameHardware(o.caps, e.caps); });
    if (!dup) out.push_back(std::move(e));
  }
  std::stable_sort(out.begin(), out.end(), [](const PhysicalDeviceEntry& a, const PhysicalDeviceEntry& b) {
    return TypeRank(a.caps.type) < TypeRank(b.caps.type);
  });
  return out;
}

std::vector<PhysicalDeviceEntry> ListDevices(const Instance& instance) {
  std::vector<PhysicalDeviceEntry> all;
  for (VkPhysicalDevice pd : instance.PhysicalDevices()) all.push_back({pd, QueryCaps(pd, instance.handle())});
  return OrderAndDeduplicate(std::move(all));
}

const PhysicalDeviceEntry& SelectDevice(const std::vector<PhysicalDeviceEntry>& devices, std::string_view selector) {
  if (devices.empty()) throw Error("no Vulkan 1.2 device found");
  if (selector.empty()) return devices.front();
  const bool numeric =
      std::all_of(selector.begin(), selector.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (numeric) {
    const size_t index = std::strtoul(std::string(selector).c_str(), nullptr, 10);
    if (index < devices.size()) return devices[index];
  } else {
    const std::string needle = Lower(selector);
    for (const auto& d : devices) {
      if (Lower(d.caps.name).find(needle) != std::string::npos) return d;
    }
  }
  std::string names;
  for (size_t i = 0; i < devices.size(); ++i) {
    names += Concat(i ? ", " : "", i, ": ", devices[i].caps.name);
  }
  throw Error(Concat("no Vulkan device matches '", selector, "' (available: ", names, ")"));
}

std::string DeviceSelectorFromEnv() {
  const char* v = std::getenv("VKGEMMA_DEVICE");
  return v ? std::string(v) : std::string();
}

Device::Device(const Instance& instance, const PhysicalDeviceEntry& entry)
    : instance_(instance), physical_(entry.handle), caps_(entry.caps) {
  VKG_CHECK(caps_.subgroup_arithmetic, "device '", caps_.name,
            "' lacks subgroup arithmetic in compute shaders, which vkgemma requires");
  uint32_t nq = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(physical_, &nq, nullptr);
  std::vector<VkQueueFamilyProperties> qs(nq);
  vkGetPhysicalDeviceQueueFamilyProperties(physical_, &nq, qs.data());
  // Prefer a compute queue family without graphics (dedicated compute), else any compute one.
  int chosen = -1;
  for (uint32_t i = 0; i < nq; ++i) {
    if (!(qs[i].queueFlags & VK_QUEUE_COMPUTE_BIT)) continue;
    if (chosen < 0 || !(qs[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) {
      if (chosen < 0 || (qs[size_t(chosen)].queueFlags & VK_QUEUE_GRAPHICS_BIT)) chosen = int(i);
    }
  }
  VKG_CHECK(chosen >= 0, "device '", caps_.name, "' has no compute queue");
  queue_family_ = uint32_t(chosen);

  const float priority = 1.f;
  VkDeviceQueueCreateInfo qinfo{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  qinfo.queueFamilyIndex = queue_family_;
  qinfo.queueCount = 1;
  qinfo.pQueuePriorities = &priority;

  // Enable what we use when present; shaders that need a feature are only chosen when enabled.
  VkPhysicalDeviceFeatures2 feats{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  feats.pNext = &f11;
  f11.pNext = &f12;
  f11.storageBuffer16BitAccess = caps_.storage16;
  f12.shaderFloat16 = caps_.fp16;
  f12.shaderInt8 = caps_.int8;
  f12.storageBuffer8BitAccess = caps_.int8;
  // Integer dot product: the int8-activation q8_0/q4_0 products (host/ops/matmul_int8.h) need the
  // feature enabled, accelerated or not (tests force those kernels on lavapipe, which emulates it).
  VkPhysicalDeviceShaderIntegerDotProductFeatures dot{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES};
  dot.shaderIntegerDotProduct = VK_TRUE;
  if (caps_.integer_dot_feature) f12.pNext = &dot;

  std::vector<const char*> extensions;
  if (caps_.portability_subset) extensions.push_back("VK_KHR_portability_subset");
  if (caps_.integer_dot_feature) extensions.push_back(VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
  // Matrix units (shaders/matmul_coopmat.comp): the extension, its feature, and what its SPIR-V
  // declares besides (Float16, 16-bit storage and the Vulkan memory model, all checked in
  // QueryCaps before coopmat_f16 is set).
  PhysicalDeviceCoopMatFeaturesKHR coopmat;
  if (caps_.HasCoopMatF16()) {
    extensions.push_back(kCoopMatExtension);
    coopmat.cooperativeMatrix = VK_TRUE;
    coopmat.pNext = feats.pNext;
    feats.pNext = &coopmat;
    f12.vulkanMemoryModel = VK_TRUE;
  }

  VkDeviceCreateInfo info{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  info.pNext = &feats;
  info.queueCreateInfoCount = 1;
  info.pQueueCreateInfos = &qinfo;
  info.enabledExtensionCount = uint32_t(extensions.size());
  info.ppEnabledExtensionNames = extensions.data();
  VK_CHECK(vkCreateDevice(physical_, &info, nullptr, &device_));
  vkGetDeviceQueue(device_, queue_family_, 0, &queue_);
  vkGetPhysicalDeviceMemoryProperties(physical_, &memory_);
  if (instance.validation()) {
    set_name_ = reinterpret_cast<PFN_vkSetDebugUtilsObjectNameEXT>(
        vkGetDeviceProcAddr(device_, "vkSetDebugUtilsObjectNameEXT"));
  }
}

Device::~Device() {
  if (device_ != VK_NULL_HANDLE) {
    vkDeviceWaitIdle(device_);
    vkDestroyDevice(device_, nullptr);
  }
}

uint64_t Device::DeviceLocalBudget() const { return vk::DeviceLocalBudget(physical_, caps_); }

uint64_t DeviceLocalBudget(VkPhysicalDevice physical, const DeviceCaps& caps) {
  if (!caps.memory_budget) return 0;
  // A physical-device query: the extension need only be supported, not enabled (Vulkan 1.1).
  VkPhysicalDeviceMemoryBudgetPropertiesEXT budget{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
  VkPhysicalDeviceMemoryProperties2 props{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2};
  props.pNext = &budget;
  vkGetPhysicalDeviceMemoryProperties2(physical, &props);
  uint64_t best_size = 0, best_budget = 0;
  for (uint32_t i = 0; i < props.memoryProperties.memoryHeapCount; ++i) {
    const VkMemoryHeap& h = props.memoryProperties.memoryHeaps[i];
    if ((h.flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) && h.size > best_size) {
      best_size = h.size;
      best_budget = budget.heapBudget[i];
    }
  }
  return best_budget;
}

uint32_t Device::FindMemoryType(uint32_t type_bits, VkMemoryPropertyFlags required,
                                VkMemoryPropertyFlags preferred) const {
  int best = -1;
  for (uint32_t i = 0; i < memory_.memoryTypeCount; ++i) {
    if (!(type_bits & (1u << i))) continue;
    const VkMemoryPropertyFlags f = memory_.memoryTypes[i].propertyFlags;
    if ((f & required) != required) continue;
    if ((f & preferred) == preferred) return i;
    if (best < 0) best = int(i);
  }
  VKG_CHECK(best >= 0, "device '", caps_.name, "' has no memory type with flags 0x", std::hex, required);
  return uint32_t(best);
}

void Device::SetName(VkObjectType type, uint64_t handle, const std::string& name) const {
  if (!set_name_ || name.empty()) return;
  VkDebugUtilsObjectNameInfoEXT info{VK_STRUCTURE_TYPE_DEBUG_UTILS_OBJECT_NAME_INFO_EXT};
  info.objectType = type;
  info.objectHandle = handle;
  info.pObjectName = name.c_str();
  set_name_(device_, &info);
}

}  // namespace vkg::vk
