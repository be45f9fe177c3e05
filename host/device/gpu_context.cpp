// GpuContext construction (layer: host/device).
#include "host/device/gpu_context.h"

namespace vkg {

GpuContext::GpuContext(const GpuOptions& options) {
  vk::InstanceOptions io = vk::Instance::OptionsFromEnv();
  io.validation = io.validation || options.validation;
  instance_ = std::make_unique<vk::Instance>(io);
  const auto devices = vk::ListDevices(*instance_);
  const std::string selector = options.device_selector.empty() ? vk::DeviceSelectorFromEnv() : options.device_selector;
  device_ = std::make_unique<vk::Device>(*instance_, vk::SelectDevice(devices, selector));
  pipelines_ = std::make_unique<vk::PipelineCache>(*device_);
  transfer_ = std::make_unique<vk::Transfer>(*device_);
}

GpuContext::~GpuContext() {
  transfer_.reset();
  pipelines_.reset();
  device_.reset();
  instance_.reset();
}

}  // namespace vkg
