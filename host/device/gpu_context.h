// The Vulkan objects one process needs, created in order and destroyed in reverse (layer: host/device).
#pragma once
#include <memory>
#include <string>

#include "vk/device.h"
#include "vk/instance.h"
#include "vk/pipeline.h"
#include "vk/transfer.h"

namespace vkg {

struct GpuOptions {
  std::string device_selector;  // "" = VKGEMMA_DEVICE or the first device in the default order
  bool validation = false;      // also turned on by VKGEMMA_VALIDATION=1
};

class GpuContext {
 public:
  explicit GpuContext(const GpuOptions& options);
  ~GpuContext();

  vk::Instance& instance() { return *instance_; }
  vk::Device& device() { return *device_; }
  vk::PipelineCache& pipelines() { return *pipelines_; }
  vk::Transfer& transfer() { return *transfer_; }

 private:
  std::unique_ptr<vk::Instance> instance_;
  std::unique_ptr<vk::Device> device_;
  std::unique_ptr<vk::PipelineCache> pipelines_;
  std::unique_ptr<vk::Transfer> transfer_;
};

}  // namespace vkg
