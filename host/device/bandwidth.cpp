// Copy- and read-bandwidth measurements (layer: host/device).
#include "host/device/bandwidth.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "host/device/gpu_context.h"
#include "shaders/params/bandwidth_params.h"
#include "shaders/shader_table.h"
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

namespace {

constexpr uint32_t kReadWorkgroup = 256;  // invocations per workgroup (spec 0)
constexpr uint32_t kReadLoads = 4;        // independent 16-byte loads per invocation (spec 1)
constexpr uint64_t kBytesPerGroup = uint64_t(kReadWorkgroup) * kReadLoads * 16;

// Median device time (ms) of one pass of `id` over the ranges, after one warm-up.
double TimeReadPasses(GpuContext& gpu, shaders::ShaderId id, const std::vector<vk::BufferSlice>& ranges,
                      const vk::BufferSlice& sinks, uint64_t sink_stride, int reps) {
  const bool texel = id == shaders::ShaderId::ReadBandwidthTexel;
  const vk::BindingKind src_kind = texel ? vk::BindingKind::kTexel : vk::BindingKind::kStorage;
  const auto& pipe = gpu.pipelines().Get({shaders::Spirv(id),
                                          shaders::Name(id),
                                          {src_kind, vk::BindingKind::kStorage},
                                          sizeof(shaders::ReadBandwidthParams),
                                          vk::SpecConstants().Set(0, kReadWorkgroup).Set(1, kReadLoads)});
  vk::TimestampPool pool(gpu.device(), 2);
  vk::Recorder rec(gpu.device());
  rec.Begin();
  rec.ResetTimestamps(pool);
  rec.WriteTimestamp(pool, 0);
  for (size_t i = 0; i < ranges.size(); ++i) {
    const vk::BufferSlice& r = ranges[i];
    // Each dispatch its own sink slot: no write-after-write between the barrier-free dispatches.
    const vk::Binding b[] = {
        texel ? vk::Binding::Texel(r.buffer->TexelViewOf(r.offset, r.size)) : vk::Binding::Storage(r),
        vk::Binding::Storage(sinks.Sub(i * sink_stride, 16))};
    const uint64_t groups = r.size / kBytesPerGroup;
    const shaders::ReadBandwidthParams params{uint32_t(groups), 0x9E3779B9u, 0, 0};
    const uint32_t gx = uint32_t(std::min<uint64_t>(groups, 65535)), gy = uint32_t((groups + gx - 1) / gx);
    rec.SetDispatchBytes(r.size);
    rec.Dispatch(pipe, b, params, gx, gy);
  }
  rec.WriteTimestamp(pool, 1);
  rec.End();
  rec.Submit();  // warm-up (pipeline first use)
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    rec.Submit();
    ms.push_back(pool.ElapsedNs(0, 1) * 1e-6);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

ReadBandwidth MeasureReadBandwidth(GpuContext& gpu, int reps, uint64_t bytes) {
  VKG_CHECK(reps >= 1, "MeasureReadBandwidth needs at least one repetition");
  const auto& caps = gpu.device().caps();
  if (const uint64_t room = caps.DeviceLocalBytes()) bytes = std::min<uint64_t>(bytes, room / 4);
  // One range: at most 256 MiB, within what one binding (storage or texel) and one allocation allow.
  uint64_t range = uint64_t(256) << 20;
  if (caps.max_storage_buffer_range) range = std::min<uint64_t>(range, caps.max_storage_buffer_range);
  if (caps.max_texel_buffer_elements) range = std::min<uint64_t>(range, uint64_t(caps.max_texel_buffer_elements) * 16);
  if (caps.max_memory_allocation) range = std::min<uint64_t>(range, caps.max_memory_allocation);
  range = std::max<uint64_t>(range / kBytesPerGroup * kBytesPerGroup, kBytesPerGroup);
  bytes = std::max<uint64_t>(bytes / kBytesPerGroup * kBytesPerGroup, kBytesPerGroup);

  std::vector<std::unique_ptr<vk::Buffer>> buffers;
  std::vector<vk::BufferSlice> ranges;
  for (uint64_t done = 0; done < bytes;) {
    const uint64_t n = std::min(range, bytes - done);
    buffers.push_back(
        std::make_unique<vk::Buffer>(gpu.device(), n, vk::MemoryKind::kDeviceLocal, "bandwidth_read_src"));
    ranges.push_back({buffers.back().get(), 0, n});
    done += n;
  }
  const uint64_t sink_stride = std::max<uint64_t>(256, caps.min_storage_offset_alignment);
  vk::Buffer sink(gpu.device(), sink_stride * ranges.size(), vk::MemoryKind::kDeviceLocal, "bandwidth_read_sink");
  {  // defined contents (zeros: the kernels' xor never equals their magic value), pages touched
    vk::Recorder rec(gpu.device());
    rec.Begin();
    for (const auto& r : ranges) rec.FillZero(r);
    rec.End();
    rec.Submit();
  }
  const vk::BufferSlice sinks{&sink, 0, sink.size()};
  ReadBandwidth r;
  r.bytes = bytes;
  r.ranges = uint32_t(ranges.size());
  r.reps = reps;
  const double storage_ms = TimeReadPasses(gpu, shaders::ShaderId::ReadBandwidth, ranges, sinks, sink_stride, reps);
  const double texel_ms = TimeReadPasses(gpu, shaders::ShaderId::ReadBandwidthTexel, ranges, sinks, sink_stride, reps);
  r.storage_gbps = double(bytes) / (storage_ms * 1e-3) * 1e-9;
  r.texel_gbps = double(bytes) / (texel_ms * 1e-3) * 1e-9;
  const bool texel_better = r.texel_gbps > r.storage_gbps;
  r.method = texel_better ? "texel" : "storage";
  r.gbps = texel_better ? r.texel_gbps : r.storage_gbps;
  r.median_ms = texel_better ? texel_ms : storage_ms;
  return r;
}

}  // namespace vkg
