// Device buffers, non-owning slices of them, texel views, and a block sub-allocator (layer: vk).
#pragma once
#include <vulkan/vulkan.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "vk/handle.h"

namespace vkg::vk {

class Device;
class TexelView;

enum class MemoryKind {
  kDeviceLocal,  // fastest for the GPU; filled through staging copies (never mapped)
  kUpload,       // host-visible, coherent: staging for uploads
  kReadback,     // host-visible, cached when possible: staging for downloads
};

// Device memory this process holds now: live VkDeviceMemory objects (every Buffer owns one) with
// their allocated bytes, and live texel views. Soak tests and `--stats` check that hours of
// generation allocate nothing after warm-up (counted process-wide, atomically).
struct LiveAllocations {
  uint64_t memory_objects = 0, memory_bytes = 0, texel_views = 0;
};
LiveAllocations CurrentLiveAllocations();

// Every buffer can be a storage buffer, a uniform texel buffer (weights are read through texel
// views: faster on some drivers and not capped by maxStorageBufferRange) and a copy source/target.
class Buffer {
 public:
  Buffer(const Device& device, VkDeviceSize size, MemoryKind kind, const std::string& name);
  ~Buffer();
  Buffer(const Buffer&) = delete;  // texel views point back at their buffer: never moved
  Buffer& operator=(const Buffer&) = delete;

  VkBuffer handle() const { return buffer_.get(); }
  VkDeviceSize size() const { return size_; }
  MemoryKind kind() const { return kind_; }
  void* mapped() const { return mapped_; }  // null for kDeviceLocal
  const std::string& name() const { return name_; }

  // An RGBA32UI texel view of the slice's bytes (size rounded up to whole texels), created on
  // first use and destroyed with the buffer. Activations are read through it by kernels where
  // texel fetches beat storage-buffer loads; after the first step of a given shape nothing is
  // created per dispatch. The view covers exactly the slice, so synchronization validation sees
  // the real read range. The offset must honour minTexelBufferOffsetAlignment.
  const TexelView& TexelViewOf(VkDeviceSize offset, VkDeviceSize size) const;

 private:
  const Device* device_;
  mutable std::map<std::pair<VkDeviceSize, VkDeviceSize>, std::unique_ptr<TexelView>> views_;
  UniqueBuffer buffer_;
  UniqueMemory memory_;
  VkDeviceSize allocated_bytes_ = 0;  // the allocation's size (the requirement, >= size_)
  VkDeviceSize size_ = 0;
  MemoryKind kind_;
  void* mapped_ = nullptr;
  std::string name_;
};

// A byte range of a Buffer. Cheap to copy; the Buffer must outlive it.
struct BufferSlice {
  const Buffer* buffer = nullptr;
  VkDeviceSize offset = 0;
  VkDeviceSize size = 0;

  BufferSlice Sub(VkDeviceSize offset_in_slice, VkDeviceSize bytes) const;
  explicit operator bool() const { return buffer != nullptr; }
};

// A uniform-texel-buffer view (R32G32B32A32_UINT: 16 bytes per texel) over a slice.
class TexelView {
 public:
  TexelView(const Device& device, const BufferSlice& slice, const std::string& name);
  ~TexelView();
  TexelView(const TexelView&) = delete;  // counted in CurrentLiveAllocations: never copied or moved
  TexelView& operator=(const TexelView&) = delete;
  VkBufferView handle() const { return view_.get(); }
  const BufferSlice& slice() const { return slice_; }

 private:
  UniqueBufferView view_;
  BufferSlice slice_;
};

// Bump allocator over large blocks of one memory kind: weights, KV cache and activations are
// allocated once and freed together (Reset or destruction). Requests larger than a block get a
// block of their own. Offsets honour the device's storage and texel offset alignments.
class BlockAllocator {
 public:
  BlockAllocator(const Device& device, MemoryKind kind, const std::string& name,
                 VkDeviceSize block_size = VkDeviceSize(256) << 20);

  BufferSlice Allocate(VkDeviceSize bytes);
  void Reset();  // forgets all allocations; keeps the blocks for reuse
  VkDeviceSize allocated_bytes() const { return allocated_; }
  VkDeviceSize reserved_bytes() const;
  VkDeviceSize alignment() const { return alignment_; }

 private:
  const Device& device_;
  MemoryKind kind_;
  std::string name_;
  VkDeviceSize block_size_;
  VkDeviceSize alignment_;
  std::vector<std::unique_ptr<Buffer>> blocks_;
  std::vector<VkDeviceSize> used_;  // bytes used in each block
  VkDeviceSize allocated_ = 0;
};

}  // namespace vkg::vk
