// What a physical device can do, read once from the driver (layer: vk).
#pragma once
#include <vulkan/vulkan.h>

#include <cstdint>
#include <string>
#include <vector>

#include "vk/cooperative_matrix.h"

namespace vkg::vk {

struct MemoryHeapInfo {
  uint64_t size = 0;
  bool device_local = false;
};

struct DeviceCaps {
  std::string name;
  std::string vendor;  // "NVIDIA", "AMD", "Intel", "Apple", "Mesa (CPU)", ...
  uint32_t vendor_id = 0, device_id = 0;
  VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
  std::string type_name;        // "discrete", "integrated", "virtual", "cpu", "other"
  std::string driver_name;      // e.g. "NVIDIA", "llvmpipe"
  std::string driver_info;      // e.g. "Mesa 22.3.6 (LLVM 15.0.6)"
  uint32_t driver_version = 0;  // raw, vendor-encoded
  std::string driver_version_string;
  uint32_t api_version = 0;
  std::string api_version_string;
  uint8_t device_uuid[VK_UUID_SIZE] = {};
  bool has_pci_bus = false;
  uint32_t pci_domain = 0, pci_bus = 0, pci_device = 0, pci_function = 0;

  uint32_t subgroup_size = 0, min_subgroup_size = 0, max_subgroup_size = 0;
  // Compute units (NVIDIA SMs, AMD CUs) as the driver tells them (VK_NV_shader_sm_builtins,
  // VK_AMD_shader_core_properties); 0 when it does not. Kernel plans use ComputeUnits().
  uint32_t compute_units = 0;
  bool subgroup_arithmetic = false;  // subgroupAdd/Max in compute shaders
  bool fp16 = false;                 // shaderFloat16
  bool storage16 = false;            // storageBuffer16BitAccess
  bool int8 = false;                 // shaderInt8 + storageBuffer8BitAccess
  // Integer dot product (VK_KHR_shader_integer_dot_product, core in 1.3): the shader feature
  // shaderIntegerDotProduct (supported: the int8-activation kernels can run, vk/device.cpp enables
  // it) and whether 4x8-bit packed signed dot products are hardware accelerated (the driver may
  // emulate them: lavapipe supports the feature without accelerating it).
  bool integer_dot_feature = false;  // shaderIntegerDotProduct (and the extension) present
  bool integer_dot_product = false;  // 4x8-bit packed signed dot product is hardware accelerated
  bool cooperative_matrix = false;   // VK_KHR_cooperative_matrix listed
  bool vulkan_memory_model = false;  // vulkanMemoryModel (the matrix-unit shaders' SPIR-V declares it)
  // Every shape vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR lists (empty without the
  // extension or its feature), and the f16 x f16 -> f32 subgroup one the prefill products use
  // (PreferredF16Shape; m == 0: none usable, or the device lacks shaderFloat16 or the memory model).
  std::vector<CoopMatShape> coopmat_shapes;
  CoopMatShape coopmat_f16{};
  bool HasCoopMatF16() const { return coopmat_f16.m != 0; }
  bool push_descriptor = false;
  bool memory_budget = false;       // VK_EXT_memory_budget listed (Device::DeviceLocalBudget)
  bool portability_subset = false;  // MoltenVK: must enable VK_KHR_portability_subset

  uint64_t max_storage_buffer_range = 0;
  uint64_t max_memory_allocation = 0;
  uint64_t max_buffer_size = 0;
  uint32_t max_texel_buffer_elements = 0;
  uint32_t max_push_constants = 0;
  uint32_t max_workgroup_invocations = 0;
  uint32_t max_workgroup_count[3] = {};
  uint32_t max_shared_memory = 0;
  uint64_t min_storage_offset_alignment = 0;
  uint64_t min_texel_offset_alignment = 0;
  float timestamp_period_ns = 0.f;
  bool timestamps = false;
  std::vector<MemoryHeapInfo> heaps;

  uint64_t DeviceLocalBytes() const;
  // compute_units, or kDefaultComputeUnits when the driver does not tell (docs/gpu.md:
  // plan for a mid-size GPU; too many workgroups costs little, too few starves the device).
  static constexpr uint32_t kDefaultComputeUnits = 64;
  uint32_t ComputeUnits() const { return compute_units ? compute_units : kDefaultComputeUnits; }
};

// instance: for the cooperative-matrix query's entry point (VK_NULL_HANDLE: shapes not read).
DeviceCaps QueryCaps(VkPhysicalDevice pd, VkInstance instance = VK_NULL_HANDLE);
bool HasDeviceExtension(VkPhysicalDevice pd, const char* name);

}  // namespace vkg::vk
