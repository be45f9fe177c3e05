// VK_KHR_cooperative_matrix: the matrix shapes a device's matrix units multiply, read once from the
// driver (layer: vk). Debian 12's Vulkan headers (1.3.239) predate the extension (1.3.255), so the
// few registry definitions it needs are repeated here under their own names, with the registry's
// values; the query goes through vkGetInstanceProcAddr, which works with any loader.
#pragma once
#include <vulkan/vulkan.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vkg::vk {

// VkComponentTypeKHR values (the registry's numbers; bf16 from VK_KHR_shader_bfloat16).
enum class CoopMatType : uint32_t {
  kF16 = 0,
  kF32 = 1,
  kF64 = 2,
  kS8 = 3,
  kS16 = 4,
  kS32 = 5,
  kS64 = 6,
  kU8 = 7,
  kU16 = 8,
  kU32 = 9,
  kU64 = 10,
  kBF16 = 1000141000,
};
const char* CoopMatTypeName(CoopMatType t);

// VkScopeKHR values a shape may be reported for.
enum class CoopMatScope : uint32_t { kDevice = 1, kWorkgroup = 2, kSubgroup = 3, kQueueFamily = 5 };

// One VkCooperativeMatrixPropertiesKHR: Result[M][N] = A[M][K] x B[K][N] + C[M][N].
struct CoopMatShape {
  uint32_t m = 0, n = 0, k = 0;
  CoopMatType a = CoopMatType::kF16, b = CoopMatType::kF16, c = CoopMatType::kF32, result = CoopMatType::kF32;
  bool saturating = false;
  CoopMatScope scope = CoopMatScope::kSubgroup;

  // f16 x f16 -> f32 at subgroup scope: what the prefill products (shaders/matmul_coopmat.comp) use.
  bool IsF16F32Subgroup() const {
    return a == CoopMatType::kF16 && b == CoopMatType::kF16 && c == CoopMatType::kF32 && result == CoopMatType::kF32 &&
           scope == CoopMatScope::kSubgroup;
  }
  std::string ToString() const;  // "16x16x16 f16*f16+f32->f32 subgroup"
};

// The shapes vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR lists, or none where the device lacks
// the extension, its cooperativeMatrix feature or compute-stage support.
std::vector<CoopMatShape> QueryCoopMatShapes(VkInstance instance, VkPhysicalDevice pd);

// The f16 x f16 -> f32 subgroup shape the prefill products use, or nullptr: 16x16x16 where
// listed (the shape every vendor with matrix units reports), else the listed one with the largest
// M x N whose sides are multiples of 8 and K a multiple of 16 (the kernels' shared-memory tiles
// hold 32 K values per quantization block and whole 16-byte rows).
const CoopMatShape* PreferredF16Shape(const std::vector<CoopMatShape>& shapes);

// The extension's structures and entry point, defined by the registry; repeated where the
// headers lack them.
#ifndef VK_KHR_cooperative_matrix
inline constexpr VkStructureType kStructPhysicalDeviceCoopMatFeatures = VkStructureType(1000506000);
inline constexpr VkStructureType kStructCoopMatProperties = VkStructureType(1000506001);
struct PhysicalDeviceCoopMatFeaturesKHR {
  VkStructureType sType = kStructPhysicalDeviceCoopMatFeatures;
  void* pNext = nullptr;
  VkBool32 cooperativeMatrix = VK_FALSE;
  VkBool32 cooperativeMatrixRobustBufferAccess = VK_FALSE;
};
struct CoopMatPropertiesKHR {
  VkStructureType sType = kStructCoopMatProperties;
  void* pNext = nullptr;
  uint32_t MSize = 0, NSize = 0, KSize = 0;
  uint32_t AType = 0, BType = 0, CType = 0, ResultType = 0;
  VkBool32 saturatingAccumulation = VK_FALSE;
  uint32_t scope = 0;
};
#else
inline constexpr VkStructureType kStructPhysicalDeviceCoopMatFeatures =
    VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR;
inline constexpr VkStructureType kStructCoopMatProperties = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR;
struct PhysicalDeviceCoopMatFeaturesKHR : VkPhysicalDeviceCooperativeMatrixFeaturesKHR {
  PhysicalDeviceCoopMatFeaturesKHR()
      : VkPhysicalDeviceCooperativeMatrixFeaturesKHR{kStructPhysicalDeviceCoopMatFeatures} {}
};
using CoopMatPropertiesKHR = VkCooperativeMatrixPropertiesKHR;
#endif
inline constexpr const char* kCoopMatExtension = "VK_KHR_cooperative_matrix";

}  // namespace vkg::vk
