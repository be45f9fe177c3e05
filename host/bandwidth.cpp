// Copy-bandwidth measurement (layer: host).
#include "host/bandwidth.h"

#include <algorithm>
#include <vector>

#include "host/gpu_context.h"
#include "vk/buffer.h"
#include "vk/check.h"
#include "vk/command.h"
#include "vk/query.h"

namespace vkg {

CopyBandwidth MeasureCopyBandwidth(GpuContext& gpu, int reps, uint64_t bytes) {
  VKG_CHECK(reps >= 1, "MeasureCopyBandwidth needs at least one repetition");
  const uint64_t room = gpu.device().caps().DeviceLocalBytes();
  if (room) bytes = std::min<uint64_t>(bytes, room / 8);
  bytes = std::max<uint64_t>(bytes / 16 * 16, 16);
  vk::Buffer a(gpu.device(), bytes, vk::MemoryKind::kDeviceLocal, "bandwidth_copy_src");
  vk::Buffer b(gpu.device(), bytes, vk::MemoryKind::kDeviceLocal, "bandwidth_copy_dst");
  const vk::BufferSlice sa{&a, 0, bytes}, sb{&b, 0, bytes};
  vk::TimestampPool pool(gpu.device(), 2);
  vk::Recorder rec(gpu.device());
  rec.Begin();
  rec.ResetTimestamps(pool);
  rec.WriteTimestamp(pool, 0);
  rec.CopyBuffer(sa, sb);
  rec.WriteTimestamp(pool, 1);
  rec.End();
  rec.Submit();  // warm-up: first touch of the pages
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    rec.Submit();
    ms.push_back(pool.ElapsedNs(0, 1) * 1e-6);
  }
  std::sort(ms.begin(), ms.end());
  CopyBandwidth r;
  r.median_ms = ms[ms.size() / 2];
  r.bytes = bytes;
  r.reps = reps;
  r.gbps = 2.0 * double(bytes) / (r.median_ms * 1e-3) * 1e-9;
  return r;
}

}  // namespace vkg
