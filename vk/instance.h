// Vulkan instance with optional validation layers and a debug messenger (layer: vk).
#pragma once
#include <vulkan/vulkan.h>

#include <atomic>
#include <string>
#include <vector>

namespace vkg::vk {

struct InstanceOptions {
  // Enables VK_LAYER_KHRONOS_validation (+ synchronization validation) and a messenger that counts
  // and prints every warning or error. Throws if the layer is not installed.
  bool validation = false;
};

class Instance {
 public:
  explicit Instance(const InstanceOptions& options);
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  VkInstance handle() const { return instance_; }
  bool validation() const { return validation_; }
  std::vector<VkPhysicalDevice> PhysicalDevices() const;

  // Validation messages (warnings and errors) seen so far by this instance's messenger.
  int validation_message_count() const { return messages_.load(); }
  std::string last_validation_message() const;

  // Options from the environment: VKGEMMA_VALIDATION=1 turns validation on.
  static InstanceOptions OptionsFromEnv();

 private:
  static VkBool32 VKAPI_CALL OnMessage(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                       VkDebugUtilsMessageTypeFlagsEXT type,
                                       const VkDebugUtilsMessengerCallbackDataEXT* data, void* user);

  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  bool validation_ = false;
  std::atomic<int> messages_{0};
  std::string last_message_;
};

}  // namespace vkg::vk
