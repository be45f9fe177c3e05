// The f16 matrix-unit peak micro-benchmark (layer: bench).
#include "bench/ops/coopmat_peak.h"

#include <algorithm>
#include <vector>

#include "host/ops/matmul_coopmat.h"
#include "host/ops/op_context.h"
#include "shaders/params/coopmat_peak_params.h"
#include "vk/buffer.h"
#include "vk/command.h"
#include "vk/query.h"

namespace vkg::bench {

CoopMatPeak MeasureCoopMatPeak(GpuContext& gpu, int reps) {
  CoopMatPeak out;
  const vk::DeviceCaps& caps = gpu.device().caps();
  if (!CoopMatKernelsCompiled()) {
    out.not_run = "this build's glslangValidator cannot compile GL_KHR_cooperative_matrix (tools/glslang.sh)";
    return out;
  }
  if (!caps.HasCoopMatF16()) {
    out.not_run = caps.cooperative_matrix
                      ? "device lists VK_KHR_cooperative_matrix but no usable f16 x f16 -> f32 subgroup shape"
                      : "device has no VK_KHR_cooperative_matrix";
    return out;
  }
#if VKG_SHADERS_COOPMAT
  const vk::CoopMatShape& u = caps.coopmat_f16;
  out.unit = u.ToString();
  constexpr uint32_t kSubgroups = 4, kWorkgroupsPerCu = 16, kIterations = 2048, kAccumulators = 8;
  const uint32_t workgroup = kSubgroups * caps.subgroup_size;
  const uint32_t groups = kWorkgroupsPerCu * caps.ComputeUnits();
  vk::BlockAllocator alloc(gpu.device(), vk::MemoryKind::kDeviceLocal, "coopmat_peak");
  const vk::BufferSlice sink = alloc.Allocate(256);
  vk::PipelineCache& cache = gpu.pipelines();
  const vk::ComputePipeline& pipeline =
      cache.Get({shaders::Spirv(shaders::ShaderId::CoopMatPeak),
                 shaders::Name(shaders::ShaderId::CoopMatPeak),
                 {vk::BindingKind::kStorage},
                 sizeof(shaders::CoopMatPeakParams),
                 vk::SpecConstants().Set(0, workgroup).Set(1, u.m).Set(2, u.n).Set(3, u.k)});
  const shaders::CoopMatPeakParams params{kIterations, 0.5f, 0.25f, -12345.f};
  const vk::Binding bind[] = {vk::Binding::Storage(sink)};
  vk::TimestampPool pool(gpu.device(), 2);
  vk::Recorder rec(gpu.device());
  rec.Begin();
  rec.ResetTimestamps(pool);
  rec.WriteTimestamp(pool, 0);
  rec.Dispatch(pipeline, bind, params, groups);
  rec.WriteTimestamp(pool, 1);
  rec.End();
  rec.Submit();  // warm-up
  std::vector<double> ms;
  for (int i = 0; i < std::max(reps, 3); ++i) {
    rec.Submit();
    ms.push_back(pool.ElapsedNs(0, 1) * 1e-6);
  }
  std::sort(ms.begin(), ms.end());
  const double flops = 2.0 * u.m * u.n * u.k * kAccumulators * double(kIterations) * groups * kSubgroups;
  out.tflops = flops / (ms[ms.size() / 2] * 1e-3) * 1e-12;
#endif
  return out;
}

}  // namespace vkg::bench
