// StepStaging (layer: host/runtime).
#include "host/runtime/step_staging.h"

#include "vk/check.h"

namespace vkg {

StepStaging::StepStaging(const vk::Device& device, uint64_t in_bytes, uint64_t out_bytes)
    : in_(std::make_unique<vk::Buffer>(device, std::max<uint64_t>(in_bytes, 16), vk::MemoryKind::kUpload,
                                       "step inputs")),
      out_(std::make_unique<vk::Buffer>(device, std::max<uint64_t>(out_bytes, 16), vk::MemoryKind::kReadback,
                                        "step outputs")) {}

void* StepStaging::Stage(const vk::BufferSlice& dst, uint64_t bytes) {
  VKG_CHECK(bytes <= dst.size, "StepStaging: ", bytes, " bytes into a slice of ", dst.size);
  const uint64_t offset = (used_ + 15) / 16 * 16;
  VKG_CHECK(offset + bytes <= in_->size(), "StepStaging: ", offset + bytes, " input bytes of ", in_->size());
  used_ = offset + bytes;
  copies_.push_back({vk::BufferSlice{in_.get(), offset, bytes}, dst.Sub(0, bytes)});
  return static_cast<char*>(in_->mapped()) + offset;
}

void StepStaging::RecordInputs(vk::Recorder& rec) const {
  for (const Copy& c : copies_) rec.CopyBuffer(c.src, c.dst);
  rec.TransferToCompute();
}

const void* StepStaging::RecordOutput(vk::Recorder& rec, const vk::BufferSlice& src) {
  VKG_CHECK(src.size <= out_->size(), "StepStaging: reads back ", src.size, " bytes of ", out_->size());
  rec.ComputeToTransfer();
  rec.CopyBuffer(src, vk::BufferSlice{out_.get(), 0, src.size});
  rec.ToHost();
  return out_->mapped();
}

}  // namespace vkg
