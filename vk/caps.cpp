// Reading DeviceCaps from the driver's property and feature chains (layer: vk).
#include "vk/caps.h"

#include <cstring>

#include "vk/check.h"

namespace vkg::vk {
namespace {

std::string VendorName(uint32_t id) {
  switch (id) {
    case 0x10DE: return "NVIDIA";
    case 0x1002: return "AMD";
    case 0x8086: return "Intel";
    case 0x106B: return "Apple";
    case 0x13B5: return "ARM";
    case 0x5143: return "Qualcomm";
    case 0x1010: return "ImgTec";
    case 0x10005: return "Mesa";
    default: return Concat("0x", std::hex, id);
  }
}

std::string TypeName(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
  }
}

std::string DriverVersionString(uint32_t vendor, uint32_t v) {
  if (vendor == 0x10DE) {  // NVIDIA: 10.8.8.6 bits
    return Concat((v >> 22) & 0x3ff, ".", (v >> 14) & 0xff, ".", (v >> 6) & 0xff, ".", v & 0x3f);
  }
  return Concat(VK_API_VERSION_MAJOR(v), ".", VK_API_VERSION_MINOR(v), ".", VK_API_VERSION_PATCH(v));
}

}  // namespace

bool HasDeviceExtension(VkPhysicalDevice pd, const char* name) {
  uint32_t n = 0;
  VK_CHECK(vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr));
  std::vector<VkExtensionProperties> exts(n);
  VK_CHECK(vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, exts.data()));
  for (const auto& e : exts) {
    if (std::strcmp(e.extensionName, name) == 0) return true;
  }
  return false;
}

uint64_t DeviceCaps::DeviceLocalBytes() const {
  uint64_t best = 0;
  for (const auto& h : heaps) {
    if (h.device_local && h.size > best) best = h.size;
  }
  return best;
}

namespace {

// The optional device extensions whose properties QueryCaps reads.
struct CapsExtensions {
  bool pci = false, integer_dot = false, size_control = false, sm_builtins = false, amd_cores = false;
};

// Every property struct QueryCaps reads, chained from `props` (Query links them; the struct must
// not move afterwards: the chain points into it).
struct PropertyChain {
  VkPhysicalDeviceProperties2 props{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
  VkPhysicalDeviceDriverProperties driver{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
  VkPhysicalDeviceIDProperties ids{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
  VkPhysicalDeviceSubgroupProperties subgroup{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
  VkPhysicalDeviceMaintenance3Properties maint3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
  VkPhysicalDevicePCIBusInfoPropertiesEXT pci{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PCI_BUS_INFO_PROPERTIES_EXT};
  VkPhysicalDeviceShaderIntegerDotProductProperties dot{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES};
  VkPhysicalDeviceSubgroupSizeControlProperties size_ctl{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES};
  VkPhysicalDeviceShaderSMBuiltinsPropertiesNV sm{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_SM_BUILTINS_PROPERTIES_NV};
  VkPhysicalDeviceShaderCorePropertiesAMD amd{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_CORE_PROPERTIES_AMD};

  // Driver, IDs, subgroups, maintenance3, and the optional extensions' structs.
  void Query(VkPhysicalDevice pd, uint32_t api_version, const CapsExtensions& ext) {
    void** tail = &props.pNext;
    auto link = [&tail](auto& s) {
      *tail = &s;
      tail = &s.pNext;
    };
    if (api_version >= VK_API_VERSION_1_2) link(driver);
    link(ids);
    link(subgroup);
    link(maint3);
    if (ext.pci) link(pci);
    if (ext.integer_dot || api_version >= VK_API_VERSION_1_3) link(dot);
    if (ext.size_control || api_version >= VK_API_VERSION_1_3) link(size_ctl);
    if (ext.sm_builtins) link(sm);
    if (ext.amd_cores) link(amd);
    vkGetPhysicalDeviceProperties2(pd, &props);
  }
};

// The feature structs QueryCaps reads (the same rule: chained into, so not moved after Query).
struct FeatureChain {
  VkPhysicalDeviceFeatures2 feats{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  // The integer-dot feature through its extension's struct: the instance asks for Vulkan 1.2
  // (vk/instance.cpp), so 1.3 core structs are not ours to use, and vk/device.cpp enables the
  // extension alongside the feature.
  VkPhysicalDeviceShaderIntegerDotProductFeatures dot{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES};

  void Query(VkPhysicalDevice pd, bool v12, bool has_dot) {
    if (v12) {
      feats.pNext = &f11;
      f11.pNext = &f12;
      if (has_dot) f12.pNext = &dot;
    }
    vkGetPhysicalDeviceFeatures2(pd, &feats);
  }
};

// Name, vendor, type, driver and API versions, UUID and PCI address.
void FillIdentity(DeviceCaps& c, const VkPhysicalDeviceProperties& base, const PropertyChain& p, bool v12,
                  bool has_pci) {
  c.name = base.deviceName;
  c.vendor_id = base.vendorID;
  c.device_id = base.deviceID;
  c.vendor = VendorName(base.vendorID);
  c.type = base.deviceType;
  c.type_name = TypeName(base.deviceType);
  c.driver_version = base.driverVersion;
  c.driver_version_string = DriverVersionString(base.vendorID, base.driverVersion);
  c.api_version = base.apiVersion;
  c.api_version_string = Concat(VK_API_VERSION_MAJOR(base.apiVersion), ".", VK_API_VERSION_MINOR(base.apiVersion), ".",
                                VK_API_VERSION_PATCH(base.apiVersion));
  if (v12) {
    c.driver_name = p.driver.driverName;
    c.driver_info = p.driver.driverInfo;
  }
  std::memcpy(c.device_uuid, p.ids.deviceUUID, VK_UUID_SIZE);
  if (has_pci) {
    c.has_pci_bus = true;
    c.pci_domain = p.pci.pciDomain;
    c.pci_bus = p.pci.pciBus;
    c.pci_device = p.pci.pciDevice;
    c.pci_function = p.pci.pciFunction;
  }
}

// The limits QueryCaps copies, and maintenance3's allocation size.
void FillLimits(DeviceCaps& c, const VkPhysicalDeviceLimits& l, const VkPhysicalDeviceMaintenance3Properties& maint3) {
  c.max_storage_buffer_range = l.maxStorageBufferRange;
  c.max_memory_allocation = maint3.maxMemoryAllocationSize;
  c.max_buffer_size = maint3.maxMemoryAllocationSize;
  c.max_texel_buffer_elements = l.maxTexelBufferElements;
  c.max_push_constants = l.maxPushConstantsSize;
  c.max_workgroup_invocations = l.maxComputeWorkGroupInvocations;
  for (int i = 0; i < 3; ++i) c.max_workgroup_count[i] = l.maxComputeWorkGroupCount[i];
  c.max_shared_memory = l.maxComputeSharedMemorySize;
  c.min_storage_offset_alignment = l.minStorageBufferOffsetAlignment;
  c.min_texel_offset_alignment = l.minTexelBufferOffsetAlignment;
  c.timestamp_period_ns = l.timestampPeriod;
}

// Some compute queue family writes timestamps.
bool HasComputeTimestamps(VkPhysicalDevice pd) {
  uint32_t nq = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, nullptr);
  std::vector<VkQueueFamilyProperties> qs(nq);
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, qs.data());
  bool timestamps = false;
  for (const auto& q : qs) {
    if ((q.queueFlags & VK_QUEUE_COMPUTE_BIT) && q.timestampValidBits > 0) timestamps = true;
  }
  return timestamps;
}

std::vector<MemoryHeapInfo> MemoryHeaps(VkPhysicalDevice pd) {
  VkPhysicalDeviceMemoryProperties mem{};
  vkGetPhysicalDeviceMemoryProperties(pd, &mem);
  std::vector<MemoryHeapInfo> heaps;
  for (uint32_t i = 0; i < mem.memoryHeapCount; ++i) {
    heaps.push_back({mem.memoryHeaps[i].size, (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0});
  }
  return heaps;
}

}  // namespace

DeviceCaps QueryCaps(VkPhysicalDevice pd, VkInstance instance) {
  DeviceCaps c;
  CapsExtensions ext;
  ext.pci = HasDeviceExtension(pd, VK_EXT_PCI_BUS_INFO_EXTENSION_NAME);
  ext.integer_dot = HasDeviceExtension(pd, VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
  c.cooperative_matrix = HasDeviceExtension(pd, "VK_KHR_cooperative_matrix");
  c.push_descriptor = HasDeviceExtension(pd, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
  c.memory_budget = HasDeviceExtension(pd, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
  c.portability_subset = HasDeviceExtension(pd, "VK_KHR_portability_subset");
  ext.size_control = HasDeviceExtension(pd, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
  ext.sm_builtins = HasDeviceExtension(pd, VK_NV_SHADER_SM_BUILTINS_EXTENSION_NAME);
  ext.amd_cores = HasDeviceExtension(pd, VK_AMD_SHADER_CORE_PROPERTIES_EXTENSION_NAME);

  VkPhysicalDeviceProperties base{};
  vkGetPhysicalDeviceProperties(pd, &base);
  const bool v12 = base.apiVersion >= VK_API_VERSION_1_2;
  PropertyChain p;
  p.Query(pd, base.apiVersion, ext);
  FeatureChain f;
  f.Query(pd, v12, ext.integer_dot);

  FillIdentity(c, base, p, v12, ext.pci);
  c.subgroup_size = p.subgroup.subgroupSize;
  c.min_subgroup_size = c.max_subgroup_size = p.subgroup.subgroupSize;
  if (p.size_ctl.minSubgroupSize) {
    c.min_subgroup_size = p.size_ctl.minSubgroupSize;
    c.max_subgroup_size = p.size_ctl.maxSubgroupSize;
  }
  if (ext.sm_builtins) c.compute_units = p.sm.shaderSMCount;
  if (ext.amd_cores)
    c.compute_units = p.amd.shaderEngineCount * p.amd.shaderArraysPerEngineCount * p.amd.computeUnitsPerShaderArray;
  c.subgroup_arithmetic = (p.subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                          (p.subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
  c.fp16 = v12 && f.f12.shaderFloat16;
  c.storage16 = v12 && f.f11.storageBuffer16BitAccess;
  c.int8 = v12 && f.f12.shaderInt8 && f.f12.storageBuffer8BitAccess;
  c.integer_dot_feature = v12 && ext.integer_dot && f.dot.shaderIntegerDotProduct;
  c.integer_dot_product = c.integer_dot_feature && p.dot.integerDotProduct4x8BitPackedSignedAccelerated;
  c.vulkan_memory_model = v12 && f.f12.vulkanMemoryModel;
  c.coopmat_shapes = QueryCoopMatShapes(instance, pd);
  if (const CoopMatShape* s = PreferredF16Shape(c.coopmat_shapes); s && c.fp16 && c.storage16 && c.vulkan_memory_model)
    c.coopmat_f16 = *s;
  FillLimits(c, base.limits, p.maint3);
  c.timestamps = HasComputeTimestamps(pd);
  c.heaps = MemoryHeaps(pd);
  return c;
}

}  // namespace vkg::vk
