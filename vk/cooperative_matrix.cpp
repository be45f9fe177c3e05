// Reading the cooperative-matrix shapes a device reports (layer: vk).
#include "vk/cooperative_matrix.h"

#include <algorithm>

#include "vk/caps.h"
#include "vk/check.h"

namespace vkg::vk {

const char* CoopMatTypeName(CoopMatType t) {
  switch (t) {
    case CoopMatType::kF16: return "f16";
    case CoopMatType::kF32: return "f32";
    case CoopMatType::kF64: return "f64";
    case CoopMatType::kS8: return "s8";
    case CoopMatType::kS16: return "s16";
    case CoopMatType::kS32: return "s32";
    case CoopMatType::kS64: return "s64";
    case CoopMatType::kU8: return "u8";
    case CoopMatType::kU16: return "u16";
    case CoopMatType::kU32: return "u32";
    case CoopMatType::kU64: return "u64";
    case CoopMatType::kBF16: return "bf16";
  }
  return "other";
}

std::string CoopMatShape::ToString() const {
  const char* s = scope == CoopMatScope::kSubgroup    ? "subgroup"
                  : scope == CoopMatScope::kWorkgroup ? "workgroup"
                  : scope == CoopMatScope::kDevice    ? "device"
                                                      : "queue family";
  return Concat(m, "x", n, "x", k, " ", CoopMatTypeName(a), "*", CoopMatTypeName(b), "+", CoopMatTypeName(c), "->",
                CoopMatTypeName(result), saturating ? " saturating" : "", " ", s);
}

std::vector<CoopMatShape> QueryCoopMatShapes(VkInstance instance, VkPhysicalDevice pd) {
  if (instance == VK_NULL_HANDLE || !HasDeviceExtension(pd, kCoopMatExtension)) return {};
  PhysicalDeviceCoopMatFeaturesKHR feature;
  VkPhysicalDeviceFeatures2 feats{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  feats.pNext = &feature;
  vkGetPhysicalDeviceFeatures2(pd, &feats);
  if (!feature.cooperativeMatrix) return {};
  using Fn = VkResult(VKAPI_PTR*)(VkPhysicalDevice, uint32_t*, CoopMatPropertiesKHR*);
  const auto get =
      reinterpret_cast<Fn>(vkGetInstanceProcAddr(instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR"));
  if (!get) return {};
  uint32_t n = 0;
  if (get(pd, &n, nullptr) != VK_SUCCESS || n == 0) return {};
  std::vector<CoopMatPropertiesKHR> props(n);
  for (auto& p : props) p = CoopMatPropertiesKHR{kStructCoopMatProperties};
  if (get(pd, &n, props.data()) < 0) return {};  // VK_INCOMPLETE still fills n entries
  std::vector<CoopMatShape> out;
  for (uint32_t i = 0; i < n; ++i) {
    const CoopMatPropertiesKHR& p = props[i];
    out.push_back({p.MSize, p.NSize, p.KSize, CoopMatType(p.AType), CoopMatType(p.BType), CoopMatType(p.CType),
                   CoopMatType(p.ResultType), p.saturatingAccumulation != VK_FALSE, CoopMatScope(p.scope)});
  }
  return out;
}

const CoopMatShape* PreferredF16Shape(const std::vector<CoopMatShape>& shapes) {
  const CoopMatShape* best = nullptr;
  for (const CoopMatShape& s : shapes) {
    if (!s.IsF16F32Subgroup() || s.saturating) continue;
    if (s.m == 16 && s.n == 16 && s.k == 16) return &s;
    if (s.m % 8 || s.n % 8 || s.k % 16 || s.m > 32 || s.n > 32 || 32 % s.k) continue;
    if (!best || s.m * s.n > best->m * best->n) best = &s;
  }
  return best;
}

}  // namespace vkg::vk
