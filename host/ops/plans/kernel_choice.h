// Which kernel each op kind runs on a device (layer: host/ops): the ops' own selection rules
// (GpuFamily, UsesIntegerDot, CoopMatPrefillPath) applied to a device description, for `vkgemma
// devices` and `bench --json` ("kernels_by_op"). Shape-dependent fallbacks (a head dim that is not
// a multiple of 8, rows past a device limit) are not shown: the real shapes never take them.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "host/formats/dtype.h"
#include "host/ops/op_context.h"

namespace vkg {

struct OpKernel {
  std::string op;      // "decode products", "prefill products", "decode attention", ...
  std::string kernel;  // the shader and its scheme, e.g. "matvec_int8.comp (integer dot, int8 activations)"
};
// `weights`: the linear layers' compute format (the integer-dot path serves q8_0 / q4_0 only).
std::vector<OpKernel> DescribeKernels(const vk::DeviceCaps& caps, KernelFamily kernels, const KernelFeatures& features,
                                      DType weights);

}  // namespace vkg
