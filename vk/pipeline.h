// Compute pipelines from embedded SPIR-V, cached in memory and on disk (layer: vk).
#pragma once
#include <vulkan/vulkan.h>

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "vk/handle.h"

namespace vkg::vk {

class Device;

// Specialization constants: (constant_id, 32-bit value) pairs. Fixed per model and device
// (workgroup size, head_dim, ...); one pipeline per distinct list.
struct SpecConstants {
  std::vector<std::pair<uint32_t, uint32_t>> values;
  SpecConstants& Set(uint32_t id, uint32_t value);
  SpecConstants& SetFloat(uint32_t id, float value);
  auto operator<=>(const SpecConstants&) const = default;
};

enum class BindingKind { kStorage, kTexel };

struct PipelineDesc {
  std::span<const uint32_t> spirv;
  std::string name;                   // debug name; also reported on device loss
  std::vector<BindingKind> bindings;  // set 0, bindings 0..n-1 in order
  uint32_t push_constant_bytes = 0;
  SpecConstants spec;
};

class ComputePipeline {
 public:
  ComputePipeline(const Device& device, const PipelineDesc& desc, VkPipelineCache cache);
  VkPipeline handle() const { return pipeline_.get(); }
  VkPipelineLayout layout() const { return layout_.get(); }
  VkDescriptorSetLayout set_layout() const { return set_layout_.get(); }
  const std::vector<BindingKind>& bindings() const { return bindings_; }
  uint32_t push_constant_bytes() const { return push_bytes_; }
  const std::string& name() const { return name_; }
  // Read from the SPIR-V with the spec constants applied (vk/spirv_reflect.h), for profiling:
  // invocations per workgroup, and whether the shader may read binding i (not `writeonly`).
  uint32_t invocations_per_workgroup() const { return invocations_; }
  bool reads_binding(size_t i) const { return i >= binding_read_.size() || binding_read_[i]; }

 private:
  UniqueShaderModule module_;
  UniqueSetLayout set_layout_;
  UniquePipelineLayout layout_;
  UniquePipeline pipeline_;
  std::vector<BindingKind> bindings_;
  uint32_t push_bytes_ = 0;
  std::string name_;
  uint32_t invocations_ = 1;
  std::vector<bool> binding_read_;
};

// Pipelines keyed by (SPIR-V, specialization constants), created on first use. A VkPipelineCache
// is loaded from and saved to $XDG_CACHE_HOME/vkgemma (or ~/.cache/vkgemma), one file per device
// and driver version; VKGEMMA_NO_DISK_CACHE=1 disables the file.
class PipelineCache {
 public:
  explicit PipelineCache(const Device& device);
  ~PipelineCache();  // saves the disk cache (errors ignored: a cache must never fail a run)
  PipelineCache(const PipelineCache&) = delete;
  PipelineCache& operator=(const PipelineCache&) = delete;

  const ComputePipeline& Get(const PipelineDesc& desc);
  size_t size() const { return pipelines_.size(); }
  const std::string& disk_path() const { return disk_path_; }
  void Save() const;

 private:
  using Key = std::pair<const uint32_t*, SpecConstants>;
  const Device& device_;
  UniquePipelineCacheHandle cache_;
  std::string disk_path_;
  std::map<Key, std::unique_ptr<ComputePipeline>> pipelines_;
};

}  // namespace vkg::vk
