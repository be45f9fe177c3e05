// Move-only owner for device-level Vulkan handles (layer: vk).
#pragma once
#include <vulkan/vulkan.h>

#include <utility>

namespace vkg::vk {

// Owns one handle created from `device`; destroys it with Destroy(device, handle, nullptr).
template <typename T, void (*Destroy)(VkDevice, T, const VkAllocationCallbacks*)>
class UniqueHandle {
 public:
  UniqueHandle() = default;
  UniqueHandle(VkDevice device, T handle) : device_(device), handle_(handle) {}
  UniqueHandle(UniqueHandle&& o) noexcept : device_(o.device_), handle_(std::exchange(o.handle_, VK_NULL_HANDLE)) {}
  UniqueHandle& operator=(UniqueHandle&& o) noexcept {
    if (this != &o) {
      reset();
      device_ = o.device_;
      handle_ = std::exchange(o.handle_, VK_NULL_HANDLE);
    }
    return *this;
  }
  UniqueHandle(const UniqueHandle&) = delete;
  UniqueHandle& operator=(const UniqueHandle&) = delete;
  ~UniqueHandle() { reset(); }

  void reset() {
    if (handle_ != VK_NULL_HANDLE) Destroy(device_, handle_, nullptr);
    handle_ = VK_NULL_HANDLE;
  }
  T get() const { return handle_; }
  explicit operator bool() const { return handle_ != VK_NULL_HANDLE; }

 private:
  VkDevice device_ = VK_NULL_HANDLE;
  T handle_ = VK_NULL_HANDLE;
};

using UniqueShaderModule = UniqueHandle<VkShaderModule, vkDestroyShaderModule>;
using UniqueSetLayout = UniqueHandle<VkDescriptorSetLayout, vkDestroyDescriptorSetLayout>;
using UniquePipelineLayout = UniqueHandle<VkPipelineLayout, vkDestroyPipelineLayout>;
using UniquePipeline = UniqueHandle<VkPipeline, vkDestroyPipeline>;
using UniqueFence = UniqueHandle<VkFence, vkDestroyFence>;
using UniqueQueryPool = UniqueHandle<VkQueryPool, vkDestroyQueryPool>;
using UniqueBuffer = UniqueHandle<VkBuffer, vkDestroyBuffer>;
using UniqueMemory = UniqueHandle<VkDeviceMemory, vkFreeMemory>;
using UniqueBufferView = UniqueHandle<VkBufferView, vkDestroyBufferView>;
using UniqueCommandPool = UniqueHandle<VkCommandPool, vkDestroyCommandPool>;
using UniqueDescriptorPool = UniqueHandle<VkDescriptorPool, vkDestroyDescriptorPool>;
using UniquePipelineCacheHandle = UniqueHandle<VkPipelineCache, vkDestroyPipelineCache>;

}  // namespace vkg::vk
