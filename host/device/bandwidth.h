// The device's own memory bandwidth, measured two ways with timestamp queries (layer: host/device):
// vkCmdCopyBuffer (read + write), and a compute kernel that only reads (shaders/read_bandwidth.comp),
// like decode does. Benchmarks report their GB/s as a percentage of the read bandwidth
// (bench/README.md); the copy is kept beside it for comparison with older results.
#pragma once
#include <cstdint>
#include <string>

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

struct ReadBandwidth {
  double gbps = 0;          // the better of the two kernels: bytes / median time, 1e9 bytes/s
  std::string method;       // "storage" or "texel": which kernel gave gbps
  double storage_gbps = 0;  // uvec4 storage-buffer loads
  double texel_gbps = 0;    // RGBA32UI texel fetches (how vkgemma reads weights)
  double median_ms = 0;     // median device time of one pass of the better kernel
  uint64_t bytes = 0;       // bytes read per pass
  uint32_t ranges = 0;      // bound ranges (one dispatch each) per pass
  int reps = 0;
};

// Reads a zero-filled device-local buffer of min(bytes, device-local heap / 4) once per pass,
// in ranges of at most 256 MiB (and within the storage-buffer range, the texel-view size and the
// allocation limit), one dispatch per range with no barrier between them; reps passes per kernel
// after one warm-up, median time. The default 1 GiB is well beyond any GPU's last-level cache.
ReadBandwidth MeasureReadBandwidth(GpuContext& gpu, int reps, uint64_t bytes = uint64_t(1) << 30);

}  // namespace vkg
