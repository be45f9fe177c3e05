// Timestamp queries converted to nanoseconds (layer: vk). Used by benchmarks and profiling.
#pragma once
#include <vulkan/vulkan.h>

#include <cstdint>

#include "vk/handle.h"

namespace vkg::vk {

class Device;

class TimestampPool {
 public:
  TimestampPool(const Device& device, uint32_t capacity);
  VkQueryPool handle() const { return pool_.get(); }
  uint32_t capacity() const { return capacity_; }
  // Nanoseconds between two written timestamps (after the submission has completed).
  double ElapsedNs(uint32_t begin, uint32_t end) const;

 private:
  const Device& device_;
  UniqueQueryPool pool_;
  uint32_t capacity_;
};

}  // namespace vkg::vk
