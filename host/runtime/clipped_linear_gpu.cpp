// The towers' clippable linear on the device (layer: host/runtime).
#include "host/runtime/clipped_linear_gpu.h"

#include <limits>

#include "host/ops/matmul.h"
#include "host/ops/vision.h"
#include "vk/command.h"

namespace vkg {

void RecordClippedLinear(OpContext& ctx, const GpuClippedLinear& l, const Tensor& in, const Tensor& out,
                         const Tensor& scratch) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  Tensor src = in;
  if (l.in_min > -kInf || l.in_max < kInf) {
    src = View(scratch, in.rows, in.cols);
    ClampCopy(ctx, in, src, l.in_min, l.in_max);
    ctx.rec.ComputeToCompute();
  }
  MatMul(ctx, l.w, src, out);
  if (l.out_min > -kInf || l.out_max < kInf) {
    ctx.rec.ComputeToCompute();
    ClampCopy(ctx, out, out, l.out_min, l.out_max);
  }
}

}  // namespace vkg
