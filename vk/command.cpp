// Recorder: dispatch recording with descriptor pools, barriers, copies and submission (layer: vk).
#include "vk/command.h"

#include <array>

#include "vk/check.h"
#include "vk/device.h"
#include "vk/query.h"

namespace vkg::vk {
namespace {
constexpr uint32_t kSetsPerPool = 1024;
}

Recorder::Recorder(const Device& device) : device_(device) {
  VkCommandPoolCreateInfo pi{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pi.queueFamilyIndex = device.queue_family();
  VkCommandPool pool = VK_NULL_HANDLE;
  VK_CHECK(vkCreateCommandPool(device.handle(), &pi, nullptr, &pool));
  pool_ = UniqueCommandPool(device.handle(), pool);

  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = pool;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  VK_CHECK(vkAllocateCommandBuffers(device.handle(), &ai, &cmd_));

  VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VkFence fence = VK_NULL_HANDLE;
  VK_CHECK(vkCreateFence(device.handle(), &fi, nullptr, &fence));
  fence_ = UniqueFence(device.handle(), fence);
}

Recorder::~Recorder() = default;  // pool destruction frees the command buffer

void Recorder::Begin() {
  VK_CHECK(vkResetCommandBuffer(cmd_, 0));
  for (auto& p : descriptor_pools_) VK_CHECK(vkResetDescriptorPool(device_.handle(), p.get(), 0));
  current_pool_ = 0;
  dispatches_ = 0;
  barriers_ = 0;
  barrier_requests_ = 0;
  pending_ = {};
  last_op_ = "(nothing recorded)";
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  VK_CHECK(vkBeginCommandBuffer(cmd_, &bi));
  recording_ = true;
  has_next_bytes_ = false;
  if (profiler_) {
    profile_ops_.clear();
    profile_geometry_.clear();
    vkCmdResetQueryPool(cmd_, profiler_->handle(), 0, profiler_->capacity());
    vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, profiler_->handle(), 0);
  }
}

void Recorder::AttachProfiler(TimestampPool* pool) {
  VKG_CHECK(!recording_, "Recorder::AttachProfiler while recording");
  VKG_CHECK(!pool || pool->capacity() >= 2, "Recorder::AttachProfiler: the pool needs at least 2 queries");
  profiler_ = pool;
  profile_ops_.clear();
  profile_geometry_.clear();
  if (pool) {  // no allocation per dispatch while profiling
    profile_ops_.reserve(pool->capacity());
    profile_geometry_.reserve(pool->capacity());
  }
}

void Recorder::SetDispatchBytes(uint64_t bytes_read) {
  next_bytes_ = bytes_read;
  has_next_bytes_ = true;
}

void Recorder::ProfilePoint(const char* op, const Geometry& g) {
  if (!profiler_ || profile_ops_.size() + 1 >= profiler_->capacity()) return;
  profile_ops_.push_back(op);
  profile_geometry_.push_back(g);
  vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, profiler_->handle(), uint32_t(profile_ops_.size()));
}

void Recorder::End() {
  VKG_CHECK(recording_, "Recorder::End without Begin");
  FlushBarrier();
  VK_CHECK(vkEndCommandBuffer(cmd_));
  recording_ = false;
}

VkDescriptorSet Recorder::AllocateSet(VkDescriptorSetLayout layout) {
  for (;;) {
    if (current_pool_ == descriptor_pools_.size()) {
      VkDescriptorPoolSize sizes[] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kSetsPerPool * 6},
                                      {VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, kSetsPerPool * 3}};
      VkDescriptorPoolCreateInfo pi{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
      pi.maxSets = kSetsPerPool;
      pi.poolSizeCount = 2;
      pi.pPoolSizes = sizes;
      VkDescriptorPool pool = VK_NULL_HANDLE;
      VK_CHECK(vkCreateDescriptorPool(device_.handle(), &pi, nullptr, &pool));
      descriptor_pools_.emplace_back(device_.handle(), pool);
    }
    VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    ai.descriptorPool = descriptor_pools_[current_pool_].get();
    ai.descriptorSetCount = 1;
    ai.pSetLayouts = &layout;
    VkDescriptorSet set = VK_NULL_HANDLE;
    const VkResult r = vkAllocateDescriptorSets(device_.handle(), &ai, &set);
    if (r == VK_SUCCESS) return set;
    if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL) VK_CHECK(r);
    ++current_pool_;  // this pool is full: move to the next (created on demand)
  }
}

void Recorder::Dispatch(const ComputePipeline& pipeline, std::span<const Binding> bindings, const void* push,
                        uint32_t push_bytes, uint32_t gx, uint32_t gy, uint32_t gz) {
  VKG_CHECK(recording_, "dispatch of '", pipeline.name(), "' outside Begin/End");
  VKG_CHECK(bindings.size() == pipeline.bindings().size(), "'", pipeline.name(), "' takes ", pipeline.bindings().size(),
            " bindings, got ", bindings.size());
  VKG_CHECK(push_bytes == pipeline.push_constant_bytes(), "'", pipeline.name(), "' takes ",
            pipeline.push_constant_bytes(), " push-constant bytes, got ", push_bytes);
  const auto& caps = device_.caps();
  VKG_CHECK(gx >= 1 && gy >= 1 && gz >= 1 && gx <= caps.max_workgroup_count[0] && gy <= caps.max_workgroup_count[1] &&
                gz <= caps.max_workgroup_count[2],
            "'", pipeline.name(), "' dispatch of ", gx, "x", gy, "x", gz, " workgroups is outside the device limits");

  // Fixed arrays: recording a dispatch allocates nothing on the host either (decode hot path).
  constexpr size_t kMaxBindings = 16;
  VKG_CHECK(bindings.size() <= kMaxBindings, "'", pipeline.name(), "' has more than ", kMaxBindings, " bindings");
  std::array<VkDescriptorBufferInfo, kMaxBindings> infos{};
  std::array<VkWriteDescriptorSet, kMaxBindings> writes{};
  const VkDescriptorSet set = AllocateSet(pipeline.set_layout());
  for (size_t i = 0; i < bindings.size(); ++i) {
    const Binding& b = bindings[i];
    VKG_CHECK(b.kind == pipeline.bindings()[i], "'", pipeline.name(), "' binding ", i, " has the wrong kind");
    VKG_CHECK(b.slice.buffer != nullptr && b.slice.size > 0, "'", pipeline.name(), "' binding ", i, " is empty");
    VkWriteDescriptorSet& w = writes[i];
    w = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    w.dstSet = set;
    w.dstBinding = uint32_t(i);
    w.descriptorCount = 1;
    if (b.kind == BindingKind::kStorage) {
      VKG_CHECK(b.slice.size <= caps.max_storage_buffer_range, "'", pipeline.name(), "' binding ", i, " spans ",
                b.slice.size, " bytes, over the device's storage-buffer range of ", caps.max_storage_buffer_range);
      VKG_CHECK(b.slice.offset % caps.min_storage_offset_alignment == 0, "'", pipeline.name(), "' binding ", i,
                " offset ", b.slice.offset, " is misaligned");
      infos[i] = {b.slice.buffer->handle(), b.slice.offset, b.slice.size};
      w.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      w.pBufferInfo = &infos[i];
    } else {
      w.descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
      w.pTexelBufferView = &b.view;
    }
  }
  vkUpdateDescriptorSets(device_.handle(), uint32_t(bindings.size()), writes.data(), 0, nullptr);
  vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.handle());
  vkCmdBindDescriptorSets(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.layout(), 0, 1, &set, 0, nullptr);
  if (push_bytes) {
    vkCmdPushConstants(cmd_, pipeline.layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);
  }
  FlushBarrier();
  vkCmdDispatch(cmd_, gx, gy, gz);
  last_op_ = pipeline.name().c_str();  // pipelines outlive recordings (PipelineCache)
  ++dispatches_;
  Geometry g;
  if (profiler_) {
    g.workgroups = uint64_t(gx) * gy * gz;
    g.invocations = g.workgroups * pipeline.invocations_per_workgroup();
    if (has_next_bytes_) {
      g.bytes_read = next_bytes_;
    } else {
      for (size_t i = 0; i < bindings.size(); ++i)
        if (pipeline.reads_binding(i)) g.bytes_read += bindings[i].slice.size;
      g.bytes_estimated = true;
    }
  }
  has_next_bytes_ = false;
  ProfilePoint(last_op_, g);
}

void Recorder::CopyBuffer(const BufferSlice& src, const BufferSlice& dst) {
  VKG_CHECK(src.size <= dst.size, "copy of ", src.size, " bytes into a slice of ", dst.size);
  VkBufferCopy region{src.offset, dst.offset, src.size};
  FlushBarrier();
  vkCmdCopyBuffer(cmd_, src.buffer->handle(), dst.buffer->handle(), 1, &region);
  last_op_ = "copy";
  ProfilePoint(last_op_, {0, 0, src.size, false});
}

void Recorder::FillZero(const BufferSlice& dst) {
  VKG_CHECK(dst.offset % 4 == 0 && dst.size % 4 == 0, "FillZero needs 4-byte aligned slices");
  FlushBarrier();
  vkCmdFillBuffer(cmd_, dst.buffer->handle(), dst.offset, dst.size, 0);
  last_op_ = "fill";
  ProfilePoint(last_op_, {});
}

// Barriers are deferred to the next command and merged: back-to-back ones (an op's closing barrier
// and the next op's opening one, a head's barrier and the read-back's) become one barrier whose
// stages and accesses are their union, at least as strong as each. On a GPU every barrier drains
// the queue; duplicates cost a drain each for nothing.
void Recorder::Barrier(VkPipelineStageFlags src, VkAccessFlags src_access, VkPipelineStageFlags dst,
                       VkAccessFlags dst_access) {
  ++barrier_requests_;
  pending_.src |= src;
  pending_.src_access |= src_access;
  pending_.dst |= dst;
  pending_.dst_access |= dst_access;
}

void Recorder::FlushBarrier() {
  if (!pending_.src) return;
  VkMemoryBarrier b{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  b.srcAccessMask = pending_.src_access;
  b.dstAccessMask = pending_.dst_access;
  vkCmdPipelineBarrier(cmd_, pending_.src, pending_.dst, 0, 1, &b, 0, nullptr, 0, nullptr);
  pending_ = {};
  ++barriers_;
}

void Recorder::ComputeToCompute() {
  Barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_SHADER_READ_BIT,
          VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
}
void Recorder::ComputeToTransfer() {
  Barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_SHADER_READ_BIT,
          VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
}
void Recorder::TransferToCompute() {
  Barrier(VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT,
          VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
}
void Recorder::TransferToTransfer() {
  Barrier(VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT,
          VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
}
void Recorder::ToHost() {
  Barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
          VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
          VK_ACCESS_HOST_READ_BIT);
}

void Recorder::ResetTimestamps(TimestampPool& pool) {
  FlushBarrier();
  vkCmdResetQueryPool(cmd_, pool.handle(), 0, pool.capacity());
}

void Recorder::WriteTimestamp(TimestampPool& pool, uint32_t index) {
  VKG_CHECK(index < pool.capacity(), "timestamp index ", index, " out of range");
  FlushBarrier();
  vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, pool.handle(), index);
}

void Recorder::Submit() {
  VKG_CHECK(!recording_, "Recorder::Submit while still recording");
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cmd_;
  const VkFence fence = fence_.get();
  VK_CHECK(vkResetFences(device_.handle(), 1, &fence));
  VkResult r = vkQueueSubmit(device_.queue(), 1, &si, fence);
  if (r == VK_SUCCESS) r = vkWaitForFences(device_.handle(), 1, &fence, VK_TRUE, UINT64_MAX);
  if (r == VK_ERROR_DEVICE_LOST) {
    throw DeviceLostError(
        Concat("the GPU device was lost (driver reset or crash) while running a "
               "command buffer whose last op was '",
               last_op_, "'"));
  }
  VK_CHECK(r);
  if (profiler_) {
    for (size_t i = 0; i < profile_ops_.size(); ++i) {
      const Geometry& g = profile_geometry_[i];
      profile_.push_back({profile_ops_[i], profiler_->ElapsedNs(uint32_t(i), uint32_t(i + 1)), g.workgroups,
                          g.invocations, g.bytes_read, g.bytes_estimated});
    }
  }
}

}  // namespace vkg::vk
