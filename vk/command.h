// Command recording (dispatches, copies, named barriers, timestamps) and submission (layer: vk).
#pragma once
#include <vulkan/vulkan.h>

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "vk/buffer.h"
#include "vk/handle.h"
#include "vk/pipeline.h"

namespace vkg::vk {

class Device;
class TimestampPool;

// One descriptor of a dispatch: a storage-buffer slice or a texel view.
struct Binding {
  BindingKind kind = BindingKind::kStorage;
  BufferSlice slice;
  VkBufferView view = VK_NULL_HANDLE;

  static Binding Storage(const BufferSlice& s) { return {BindingKind::kStorage, s, VK_NULL_HANDLE}; }
  static Binding Texel(const TexelView& v) { return {BindingKind::kTexel, v.slice(), v.handle()}; }
};

// A command buffer plus the descriptor sets its dispatches use. Record between Begin() and End(),
// then Submit() (waits on a fence). A recorded buffer may be submitted again without re-recording.
class Recorder {
 public:
  explicit Recorder(const Device& device);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  void Begin();  // resets the command buffer and frees this recorder's descriptor sets
  void End();

  void Dispatch(const ComputePipeline& pipeline, std::span<const Binding> bindings,
                const void* push, uint32_t push_bytes, uint32_t groups_x, uint32_t groups_y = 1,
                uint32_t groups_z = 1);
  template <typename Params>
  void Dispatch(const ComputePipeline& pipeline, std::span<const Binding> bindings,
                const Params& params, uint32_t gx, uint32_t gy = 1, uint32_t gz = 1) {
    Dispatch(pipeline, bindings, &params, sizeof(Params), gx, gy, gz);
  }

  void CopyBuffer(const BufferSlice& src, const BufferSlice& dst);
  void FillZero(const BufferSlice& dst);

  // Barriers named by intent: the writes of the first stage are visible to the second.
  void ComputeToCompute();
  void ComputeToTransfer();
  void TransferToCompute();
  void TransferToTransfer();
  void ToHost();  // all device writes visible to host reads after Submit()

  void ResetTimestamps(TimestampPool& pool);
  void WriteTimestamp(TimestampPool& pool, uint32_t index);

  // Submits and waits. Device loss throws DeviceLostError naming the last op recorded.
  void Submit();

  // Per-op device time. While a pool is attached (nullptr detaches), Begin() resets it and every
  // dispatch, copy and fill is followed by a timestamp (up to the pool's capacity); Submit() then
  // appends each op's name and the time since the previous timestamp to the profile. Ops overlap
  // only where no barrier separates them, so the spans add up to the command buffer's time.
  struct OpTime {
    std::string name;  // the pipeline's shader name, "copy" or "fill"
    double ns = 0;
  };
  void AttachProfiler(TimestampPool* pool);
  std::vector<OpTime> TakeProfile() { return std::exchange(profile_, {}); }

  VkCommandBuffer handle() const { return cmd_; }
  const char* last_op() const { return last_op_; }
  uint32_t dispatch_count() const { return dispatches_; }

 private:
  VkDescriptorSet AllocateSet(VkDescriptorSetLayout layout);
  void Barrier(VkPipelineStageFlags src, VkAccessFlags src_access, VkPipelineStageFlags dst,
               VkAccessFlags dst_access);

  const Device& device_;
  UniqueCommandPool pool_;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  UniqueFence fence_;
  std::vector<UniqueDescriptorPool> descriptor_pools_;
  size_t current_pool_ = 0;
  void ProfilePoint(const char* op);

  const char* last_op_ = "(nothing recorded)";  // no string copy per dispatch
  uint32_t dispatches_ = 0;
  bool recording_ = false;
  TimestampPool* profiler_ = nullptr;
  std::vector<const char*> profile_ops_;  // op of timestamp i + 1
  std::vector<OpTime> profile_;
};

}  // namespace vkg::vk
