// Staging transfers (layer: vk).
#include "vk/transfer.h"

#include <algorithm>
#include <cstring>

#include "vk/check.h"
#include "vk/device.h"

namespace vkg::vk {

Transfer::Transfer(const Device& device, VkDeviceSize staging_bytes)
    : device_(device), staging_bytes_(staging_bytes), recorder_(device) {}

void Transfer::UploadWith(const BufferSlice& dst, size_t bytes, const FillFn& fill) {
  VKG_CHECK(bytes <= dst.size, "upload of ", bytes, " bytes into a slice of ", dst.size);
  if (bytes == 0) return;
  if (dst.buffer->mapped()) {  // host-visible destination: write in place
    auto* base = static_cast<std::byte*>(dst.buffer->mapped()) + dst.offset;
    for (size_t off = 0; off < bytes; off += staging_bytes_) {
      const size_t n = std::min<size_t>(staging_bytes_, bytes - off);
      fill(off, {base + off, n});
    }
    return;
  }
  if (!upload_) upload_ = std::make_unique<Buffer>(device_, staging_bytes_, MemoryKind::kUpload, "staging-upload");
  auto* staging = static_cast<std::byte*>(upload_->mapped());
  for (size_t off = 0; off < bytes; off += staging_bytes_) {
    const size_t n = std::min<size_t>(staging_bytes_, bytes - off);
    fill(off, {staging, n});
    recorder_.Begin();
    recorder_.CopyBuffer({upload_.get(), 0, n}, dst.Sub(off, n));
    recorder_.TransferToCompute();
    recorder_.End();
    recorder_.Submit();
  }
}

void Transfer::Upload(const BufferSlice& dst, const void* src, size_t bytes) {
  const auto* p = static_cast<const std::byte*>(src);
  UploadWith(dst, bytes,
             [p](size_t off, std::span<std::byte> chunk) { std::memcpy(chunk.data(), p + off, chunk.size()); });
}

void Transfer::Download(const BufferSlice& src, void* dst, size_t bytes) {
  VKG_CHECK(bytes <= src.size, "download of ", bytes, " bytes from a slice of ", src.size);
  auto* out = static_cast<std::byte*>(dst);
  if (src.buffer->mapped()) {
    std::memcpy(out, static_cast<const std::byte*>(src.buffer->mapped()) + src.offset, bytes);
    return;
  }
  if (!readback_)
    readback_ = std::make_unique<Buffer>(device_, staging_bytes_, MemoryKind::kReadback, "staging-readback");
  for (size_t off = 0; off < bytes; off += staging_bytes_) {
    const size_t n = std::min<size_t>(staging_bytes_, bytes - off);
    recorder_.Begin();
    recorder_.ComputeToTransfer();
    recorder_.CopyBuffer(src.Sub(off, n), {readback_.get(), 0, n});
    recorder_.ToHost();
    recorder_.End();
    recorder_.Submit();
    std::memcpy(out + off, readback_->mapped(), n);
  }
}

}  // namespace vkg::vk
