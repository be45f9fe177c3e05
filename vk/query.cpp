// Timestamp pool (layer: vk).
#include "vk/query.h"

#include "vk/check.h"
#include "vk/device.h"

namespace vkg::vk {

TimestampPool::TimestampPool(const Device& device, uint32_t capacity) : device_(device), capacity_(capacity) {
  VKG_CHECK(device.caps().timestamps, "device '", device.caps().name, "' has no compute timestamps");
  VkQueryPoolCreateInfo info{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
  info.queryType = VK_QUERY_TYPE_TIMESTAMP;
  info.queryCount = capacity;
  VkQueryPool pool = VK_NULL_HANDLE;
  VK_CHECK(vkCreateQueryPool(device.handle(), &info, nullptr, &pool));
  pool_ = UniqueQueryPool(device.handle(), pool);
}

double TimestampPool::ElapsedNs(uint32_t begin, uint32_t end) const {
  uint64_t t[2] = {};
  VK_CHECK(vkGetQueryPoolResults(device_.handle(), pool_.get(), begin, 1, sizeof(uint64_t), &t[0], sizeof(uint64_t),
                                 VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
  VK_CHECK(vkGetQueryPoolResults(device_.handle(), pool_.get(), end, 1, sizeof(uint64_t), &t[1], sizeof(uint64_t),
                                 VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
  return double(t[1] - t[0]) * device_.caps().timestamp_period_ns;
}

}  // namespace vkg::vk
