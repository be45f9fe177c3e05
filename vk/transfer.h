// Chunked uploads and downloads through reusable staging buffers (layer: vk).
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <span>

#include "vk/buffer.h"
#include "vk/command.h"

namespace vkg::vk {

class Device;

class Transfer {
 public:
  explicit Transfer(const Device& device, VkDeviceSize staging_bytes = VkDeviceSize(64) << 20);

  // Writes `bytes` bytes into dst (from its start). `fill(offset, chunk)` produces bytes
  // [offset, offset + chunk.size()) of the content directly into staging memory, so weights can
  // be converted while uploading without a second full-size copy in host memory.
  using FillFn = std::function<void(size_t offset, std::span<std::byte> chunk)>;
  void UploadWith(const BufferSlice& dst, size_t bytes, const FillFn& fill);
  void Upload(const BufferSlice& dst, const void* src, size_t bytes);
  void Download(const BufferSlice& src, void* dst, size_t bytes);

  VkDeviceSize staging_bytes() const { return staging_bytes_; }

 private:
  const Device& device_;
  VkDeviceSize staging_bytes_;
  std::unique_ptr<Buffer> upload_, readback_;  // created on first use
  Recorder recorder_;
};

}  // namespace vkg::vk
