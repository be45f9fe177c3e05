// The device's own memory bandwidth, measured with vkCmdCopyBuffer and timestamp queries (layer:
// host). Benchmarks report their GB/s as a percentage of it (bench/README.md).
#pragma once
#include <cstdint>

namespace vkg {

class GpuContext;

struct CopyBandwidth {
  double gbps = 0;       // (read + write bytes) / median time = 2 * bytes / t, in 1e9 bytes/s
  double median_ms = 0;  // median device time of one copy
  uint64_t bytes = 0;    // size of the copied buffer
  int reps = 0;
};

// Copies one device-local buffer of `bytes` (at most 1/8 of the device-local heap) into another,
// reps times after one warm-up, timed with timestamp queries. Counted as read + write: a copy of
// B bytes moves 2B bytes through memory, the same traffic a kernel reading 2B bytes would cause.
CopyBandwidth MeasureCopyBandwidth(GpuContext& gpu, int reps, uint64_t bytes = uint64_t(256) << 20);

}  // namespace vkg
