// One queue submission per step (layer: host/runtime): the step's inputs (token ids, positions,
// per-layer embedding rows) are written by the host into mapped host-visible memory, and the step's
// command buffer starts by copying them to the device buffers the kernels read, and ends by copying
// its logits into a mapped read-back buffer. A replayed decode step records the copies once; the
// host rewrites the same staging bytes before every submission. Replaces a blocking staging
// submit-and-wait per input and per read-back (four or five per decode token before).
#pragma once
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "vk/buffer.h"
#include "vk/command.h"

namespace vkg {

class StepStaging {
 public:
  // in_bytes: the most input bytes a step stages; out_bytes: the most it reads back.
  StepStaging(const vk::Device& device, uint64_t in_bytes, uint64_t out_bytes);

  // Reserves `bytes` of staging for a copy into dst (recorded by RecordInputs), returns where the
  // host writes them. Offsets restart with Clear(); a replayed recording keeps them.
  void* Stage(const vk::BufferSlice& dst, uint64_t bytes);
  void Clear() { copies_.clear(), used_ = 0; }

  // Records every staged copy, then a transfer -> compute barrier.
  void RecordInputs(vk::Recorder& rec) const;
  // Records a compute -> transfer barrier, the copy of src into the read-back buffer, and the
  // device -> host barrier. Returns the mapped bytes (valid after the submission completed).
  const void* RecordOutput(vk::Recorder& rec, const vk::BufferSlice& src);

 private:
  struct Copy {
    vk::BufferSlice src, dst;
  };
  std::unique_ptr<vk::Buffer> in_, out_;
  std::vector<Copy> copies_;
  uint64_t used_ = 0;
};

}  // namespace vkg
