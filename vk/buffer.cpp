// Buffers, texel views and block sub-allocation (layer: vk).
#include "vk/buffer.h"

#include <algorithm>
#include <atomic>

#include "vk/check.h"
#include "vk/device.h"

namespace vkg::vk {
namespace {

// Process-wide counts behind CurrentLiveAllocations (relaxed: they are statistics, read by tests
// and `--stats` between steps, never used to order memory).
std::atomic<uint64_t> g_memory_objects{0}, g_memory_bytes{0}, g_texel_views{0};

}  // namespace

LiveAllocations CurrentLiveAllocations() {
  return {g_memory_objects.load(std::memory_order_relaxed), g_memory_bytes.load(std::memory_order_relaxed),
          g_texel_views.load(std::memory_order_relaxed)};
}

Buffer::Buffer(const Device& device, VkDeviceSize size, MemoryKind kind, const std::string& name)
    : device_(&device), size_(size), kind_(kind), name_(name) {
  VKG_CHECK(size > 0, "buffer '", name, "' has size 0");
  VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  info.size = size;
  info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
               VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VkBuffer buffer = VK_NULL_HANDLE;
  VK_CHECK(vkCreateBuffer(device.handle(), &info, nullptr, &buffer));
  buffer_ = UniqueBuffer(device.handle(), buffer);

  VkMemoryRequirements req{};
  vkGetBufferMemoryRequirements(device.handle(), buffer, &req);
  VkMemoryPropertyFlags required = 0, preferred = 0;
  switch (kind) {
    case MemoryKind::kDeviceLocal: preferred = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT; break;
    case MemoryKind::kUpload:
      required = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
      break;
    case MemoryKind::kReadback:
      required = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
      preferred = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
                  VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
      break;
  }
  if (size > device.caps().max_memory_allocation && device.caps().max_memory_allocation > 0) {
    throw Error(Concat("buffer '", name, "' needs ", size,
                       " bytes, more than the device's maximum "
                       "allocation of ",
                       device.caps().max_memory_allocation, " bytes"));
  }
  VkMemoryAllocateInfo alloc{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  alloc.allocationSize = req.size;
  alloc.memoryTypeIndex = device.FindMemoryType(req.memoryTypeBits, required, preferred);
  VkDeviceMemory memory = VK_NULL_HANDLE;
  const VkResult r = vkAllocateMemory(device.handle(), &alloc, nullptr, &memory);
  if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY) {
    throw Error(
        Concat("out of device memory allocating ", size >> 20, " MiB for '", name, "' on ", device.caps().name));
  }
  VK_CHECK(r);
  memory_ = UniqueMemory(device.handle(), memory);
  allocated_bytes_ = req.size;
  g_memory_objects.fetch_add(1, std::memory_order_relaxed);
  g_memory_bytes.fetch_add(allocated_bytes_, std::memory_order_relaxed);
  VK_CHECK(vkBindBufferMemory(device.handle(), buffer, memory, 0));
  if (kind != MemoryKind::kDeviceLocal) {
    VK_CHECK(vkMapMemory(device.handle(), memory, 0, VK_WHOLE_SIZE, 0, &mapped_));
  }
  device.SetName(VK_OBJECT_TYPE_BUFFER, uint64_t(buffer), name);
}

Buffer::~Buffer() {
  if (!memory_) return;
  g_memory_objects.fetch_sub(1, std::memory_order_relaxed);
  g_memory_bytes.fetch_sub(allocated_bytes_, std::memory_order_relaxed);
}

const TexelView& Buffer::TexelViewOf(VkDeviceSize offset, VkDeviceSize size) const {
  const auto key = std::make_pair(offset, size);
  auto it = views_.find(key);
  if (it != views_.end()) return *it->second;
  VKG_CHECK(offset < size_ && offset % std::max<VkDeviceSize>(16, device_->caps().min_texel_offset_alignment) == 0,
            "texel view of '", name_, "' at misaligned offset ", offset);
  const VkDeviceSize range = std::min((size + 15) / 16 * 16, (size_ - offset) / 16 * 16);
  auto view =
      std::make_unique<TexelView>(*device_, BufferSlice{this, offset, range}, Concat(name_, "@", offset, "+", range));
  return *views_.emplace(key, std::move(view)).first->second;
}

BufferSlice BufferSlice::Sub(VkDeviceSize offset_in_slice, VkDeviceSize bytes) const {
  VKG_CHECK(offset_in_slice + bytes <= size, "sub-slice [", offset_in_slice, ", +", bytes, ") outside slice of ", size,
            " bytes");
  return {buffer, offset + offset_in_slice, bytes};
}

TexelView::TexelView(const Device& device, const BufferSlice& slice, const std::string& name) : slice_(slice) {
  VKG_CHECK(slice.size % 16 == 0, "texel view '", name, "' size ", slice.size, " is not a multiple of 16");
  VKG_CHECK(slice.size / 16 <= device.caps().max_texel_buffer_elements, "texel view '", name, "' has ", slice.size / 16,
            " texels, over the device limit of ", device.caps().max_texel_buffer_elements);
  VkBufferViewCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO};
  info.buffer = slice.buffer->handle();
  info.format = VK_FORMAT_R32G32B32A32_UINT;
  info.offset = slice.offset;
  info.range = slice.size;
  VkBufferView view = VK_NULL_HANDLE;
  VK_CHECK(vkCreateBufferView(device.handle(), &info, nullptr, &view));
  view_ = UniqueBufferView(device.handle(), view);
  g_texel_views.fetch_add(1, std::memory_order_relaxed);
  device.SetName(VK_OBJECT_TYPE_BUFFER_VIEW, uint64_t(view), name);
}

TexelView::~TexelView() {
  if (view_) g_texel_views.fetch_sub(1, std::memory_order_relaxed);
}

BlockAllocator::BlockAllocator(const Device& device, MemoryKind kind, const std::string& name, VkDeviceSize block_size)
    : device_(device), kind_(kind), name_(name), block_size_(block_size) {
  const auto& c = device.caps();
  alignment_ = std::max<VkDeviceSize>({256, c.min_storage_offset_alignment, c.min_texel_offset_alignment});
  if (c.max_memory_allocation > 0) block_size_ = std::min(block_size_, c.max_memory_allocation);
}

BufferSlice BlockAllocator::Allocate(VkDeviceSize bytes) {
  VKG_CHECK(bytes > 0, "allocation of 0 bytes from '", name_, "'");
  const VkDeviceSize rounded = (bytes + alignment_ - 1) / alignment_ * alignment_;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    if (used_[i] + rounded <= blocks_[i]->size()) {
      BufferSlice s{blocks_[i].get(), used_[i], bytes};
      used_[i] += rounded;
      allocated_ += rounded;
      return s;
    }
  }
  const VkDeviceSize size = std::max(block_size_, rounded);
  blocks_.push_back(std::make_unique<Buffer>(device_, size, kind_, Concat(name_, "#", blocks_.size())));
  used_.push_back(rounded);
  allocated_ += rounded;
  return {blocks_.back().get(), 0, bytes};
}

void BlockAllocator::Reset() {
  std::fill(used_.begin(), used_.end(), 0);
  allocated_ = 0;
}

VkDeviceSize BlockAllocator::reserved_bytes() const {
  VkDeviceSize total = 0;
  for (const auto& b : blocks_) total += b->size();
  return total;
}

}  // namespace vkg::vk
