// The device's f16 matrix-unit peak, measured (layer: bench): the yardstick of the prefill
// products' "% of peak" in vkg_bench_ops (bench/README.md).
#pragma once
#include <string>

#include "host/device/gpu_context.h"

namespace vkg::bench {

struct CoopMatPeak {
  double tflops = 0;    // median over the timed dispatches; 0 when not run
  std::string unit;     // the shape measured, e.g. "16x16x16 f16*f16+f32->f32 subgroup"
  std::string not_run;  // non-empty: why it did not run (no extension, compiler without it)
};

// shaders/coopmat_peak.comp on the device's preferred f16 x f16 -> f32 subgroup shape: 16
// workgroups of 4 subgroups per compute unit, 2048 iterations of 8 independent multiply-adds each;
// median of `reps` timestamp-timed dispatches after a warm-up.
CoopMatPeak MeasureCoopMatPeak(GpuContext& gpu, int reps);

}  // namespace vkg::bench
