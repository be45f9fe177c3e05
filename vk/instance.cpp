// Instance creation, layer/extension discovery and the validation messenger (layer: vk).
#include "vk/instance.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "vk/check.h"

namespace vkg::vk {
namespace {

std::mutex g_message_mutex;

bool HasLayer(const char* name) {
  uint32_t n = 0;
  VK_CHECK(vkEnumerateInstanceLayerProperties(&n, nullptr));
  std::vector<VkLayerProperties> layers(n);
  VK_CHECK(vkEnumerateInstanceLayerProperties(&n, layers.data()));
  for (const auto& l : layers) {
    if (std::strcmp(l.layerName, name) == 0) return true;
  }
  return false;
}

bool HasInstanceExtension(const char* name) {
  uint32_t n = 0;
  VK_CHECK(vkEnumerateInstanceExtensionProperties(nullptr, &n, nullptr));
  std::vector<VkExtensionProperties> exts(n);
  VK_CHECK(vkEnumerateInstanceExtensionProperties(nullptr, &n, exts.data()));
  for (const auto& e : exts) {
    if (std::strcmp(e.extensionName, name) == 0) return true;
  }
  return false;
}

}  // namespace

InstanceOptions Instance::OptionsFromEnv() {
  InstanceOptions o;
  const char* v = std::getenv("VKGEMMA_VALIDATION");
  o.validation = v && *v && std::strcmp(v, "0") != 0;
  return o;
}

Instance::Instance(const InstanceOptions& options) : validation_(options.validation) {
  constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";
  std::vector<const char*> layers, extensions;
  if (validation_) {
    if (!HasLayer(kValidationLayer)) {
      throw Error(
          "validation requested but VK_LAYER_KHRONOS_validation is not installed "
          "(Debian: apt-get install vulkan-validationlayers)");
    }
    layers.push_back(kValidationLayer);
    extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  }
  VkInstanceCreateFlags flags = 0;
  // MoltenVK (Apple) devices are only listed when portability enumeration is requested.
  if (HasInstanceExtension(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
    extensions.push_back(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME);
    flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
  }

  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "vkgemma";
  app.pEngineName = "vkgemma";
  app.apiVersion = VK_API_VERSION_1_2;

  // Synchronization validation catches missing barriers between dispatches.
  VkValidationFeatureEnableEXT enables[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
  VkValidationFeaturesEXT features{VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT};
  features.enabledValidationFeatureCount = 1;
  features.pEnabledValidationFeatures = enables;

  VkDebugUtilsMessengerCreateInfoEXT messenger_info{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
  messenger_info.messageSeverity =
      VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  messenger_info.messageType =
      VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT;
  messenger_info.pfnUserCallback = &Instance::OnMessage;
  messenger_info.pUserData = this;
  if (validation_) {
    features.pNext = &messenger_info;  // also reports problems in vkCreateInstance itself
  }

  VkInstanceCreateInfo info{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  info.pNext = validation_ ? &features : nullptr;
  info.flags = flags;
  info.pApplicationInfo = &app;
  info.enabledLayerCount = uint32_t(layers.size());
  info.ppEnabledLayerNames = layers.data();
  info.enabledExtensionCount = uint32_t(extensions.size());
  info.ppEnabledExtensionNames = extensions.data();
  const VkResult r = vkCreateInstance(&info, nullptr, &instance_);
  if (r == VK_ERROR_INCOMPATIBLE_DRIVER) {
    throw Error(
        "no Vulkan driver found (install your GPU's Vulkan driver, or mesa-vulkan-drivers "
        "for the CPU device)");
  }
  VK_CHECK(r);

  if (validation_) {
    auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance_, "vkCreateDebugUtilsMessengerEXT"));
    VKG_CHECK(create != nullptr, "vkCreateDebugUtilsMessengerEXT is missing");
    VK_CHECK(create(instance_, &messenger_info, nullptr, &messenger_));
  }
}

Instance::~Instance() {
  if (messenger_ != VK_NULL_HANDLE) {
    auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
    if (destroy) destroy(instance_, messenger_, nullptr);
  }
  if (instance_ != VK_NULL_HANDLE) vkDestroyInstance(instance_, nullptr);
}

std::vector<VkPhysicalDevice> Instance::PhysicalDevices() const {
  uint32_t n = 0;
  VK_CHECK(vkEnumeratePhysicalDevices(instance_, &n, nullptr));
  std::vector<VkPhysicalDevice> devices(n);
  VK_CHECK(vkEnumeratePhysicalDevices(instance_, &n, devices.data()));
  devices.resize(n);
  return devices;
}

std::string Instance::last_validation_message() const {
  std::lock_guard<std::mutex> lock(g_message_mutex);
  return last_message_;
}

VkBool32 VKAPI_CALL Instance::OnMessage(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                        VkDebugUtilsMessageTypeFlagsEXT type,
                                        const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
  auto* self = static_cast<Instance*>(user);
  const char* text = data && data->pMessage ? data->pMessage : "(no message)";
  // The loader's own GENERAL messages about layer/driver discovery are informational; only
  // validation findings count.
  if (!(type & VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT)) return VK_FALSE;
  std::fprintf(stderr, "vkgemma validation %s: %s\n",
               severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? "error" : "warning", text);
  {
    std::lock_guard<std::mutex> lock(g_message_mutex);
    self->last_message_ = text;
  }
  self->messages_.fetch_add(1);
  return VK_FALSE;
}

}  // namespace vkg::vk
