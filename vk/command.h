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

  void Dispatch(const ComputePipeline& pipeline, std::span<const Binding> bindings, const void* push,
                uint32_t push_bytes, uint32_t groups_x, uint32_t groups_y = 1, uint32_t groups_z = 1);
  template <typename Params>
  void Dispatch(const ComputePipeline& pipeline, std::span<const Binding> bindings, const Params& params, uint32_t gx,
                uint32_t gy = 1, uint32_t gz = 1) {
    Dispatch(pipeline, bindings, &params, sizeof(Params), gx, gy, gz);
  }

  // The bytes the next Dispatch reads from memory (weights, activations, cache), for the profile's
  // launch-geometry columns; applies to that one dispatch only. Without it the profile estimates
  // the bytes as the sum of the bound ranges of the bindings the shader may read (not `writeonly`)
  // and marks them as estimated.
  void SetDispatchBytes(uint64_t bytes_read);

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
  // Each dispatch also carries its launch geometry: workgroups (gx * gy * gz), invocations
  // (workgroups x the pipeline's invocations per workgroup) and bytes read (SetDispatchBytes, or
  // the estimate above). A copy reads its source (0 workgroups); a fill reads nothing.
  struct OpTime {
    std::string name;  // the pipeline's shader name, "copy" or "fill"
    double ns = 0;
    uint64_t workgroups = 0, invocations = 0, bytes_read = 0;
    bool bytes_estimated = false;
  };
  void AttachProfiler(TimestampPool* pool);
  std::vector<OpTime> TakeProfile() { return std::exchange(profile_, {}); }

  VkCommandBuffer handle() const { return cmd_; }
  const char* last_op() const { return last_op_; }
  uint32_t dispatch_count() const { return dispatches_; }
  // Pipeline barriers recorded since Begin(): back-to-back barrier calls merge into one (Barrier).
  uint32_t barrier_count() const { return barriers_; }
  uint32_t barrier_requests() const { return barrier_requests_; }  // before merging

 private:
  VkDescriptorSet AllocateSet(VkDescriptorSetLayout layout);
  void Barrier(VkPipelineStageFlags src, VkAccessFlags src_access, VkPipelineStageFlags dst, VkAccessFlags dst_access);
  void FlushBarrier();  // records the pending (merged) barrier, if any

  const Device& device_;
  UniqueCommandPool pool_;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  UniqueFence fence_;
  std::vector<UniqueDescriptorPool> descriptor_pools_;
  size_t current_pool_ = 0;
  struct Geometry {
    uint64_t workgroups = 0, invocations = 0, bytes_read = 0;
    bool bytes_estimated = false;
  };
  void ProfilePoint(const char* op, const Geometry& g);

  const char* last_op_ = "(nothing recorded)";  // no string copy per dispatch
  uint32_t dispatches_ = 0;
  uint32_t barriers_ = 0, barrier_requests_ = 0;
  struct PendingBarrier {
    VkPipelineStageFlags src = 0, dst = 0;
    VkAccessFlags src_access = 0, dst_access = 0;
  };
  PendingBarrier pending_;  // barriers asked for since the last command, merged
  bool recording_ = false;
  TimestampPool* profiler_ = nullptr;
  std::vector<const char*> profile_ops_;    // op of timestamp i + 1
  std::vector<Geometry> profile_geometry_;  // its launch geometry
  uint64_t next_bytes_ = 0;                 // SetDispatchBytes for the next dispatch
  bool has_next_bytes_ = false;
  std::vector<OpTime> profile_;
};

}  // namespace vkg::vk
