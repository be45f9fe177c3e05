// Kernel per op kind for a device description (layer: host/ops).
#include "host/ops/plans/kernel_choice.h"

#include "host/ops/matmul_coopmat.h"
#include "host/ops/matmul_int8.h"

namespace vkg {

std::vector<OpKernel> DescribeKernels(const vk::DeviceCaps& caps, KernelFamily kernels, const KernelFeatures& features,
                                      DType weights) {
  const bool gpu = GpuFamily(caps, kernels);
  const bool int8 = UsesIntegerDot(caps, kernels, features, weights);
  const CoopMatPath coopmat = CoopMatPrefillPath(caps, kernels, features);
  std::string prefill;
  if (coopmat == CoopMatPath::kMatrixUnits) {
    prefill = "matmul_coopmat.comp (matrix units " + std::to_string(caps.coopmat_f16.m) + "x" +
              std::to_string(caps.coopmat_f16.n) + "x" + std::to_string(caps.coopmat_f16.k) + " f16, f32 sums)";
    if (weights == DType::F32) prefill = "matmul_tiled.comp (shared-memory tiles; f32 weights skip the matrix units)";
  } else if (coopmat == CoopMatPath::kEmulated) {
    prefill = "matmul_coopmat.comp (emulated fragments: tests)";
  } else if (int8) {
    prefill = "matmul_int8_tiled.comp (integer dot, int8 activations)";
  } else {
    prefill = gpu ? "matmul_tiled.comp (shared-memory tiles)" : "matmul.comp (register blocking)";
  }
  return {
      {"decode products", int8  ? "matvec_int8.comp (integer dot, int8 activations)"
                          : gpu ? "matvec.comp (split-K over subgroups, planned rows)"
                                : "matvec_rows.comp (rows per invocation)"},
      {"prefill products", prefill},
      {"decode attention",
       gpu ? "attention_decode_gpu.comp (flash-decoding: key splits + combine)" : "attention_decode.comp"},
      {"prefill attention",
       gpu ? "attention_prefill_gpu.comp (flash attention: query x key tiles)" : "attention_prefill.comp"},
      {"norms",
       gpu ? "rms_norm_rows.comp / residual_norm_rows.comp (workgroup per row)" : "rms_norm.comp / residual_norm.comp"},
      {"embedding", gpu ? "embed_rows.comp (workgroup per row)" : "embed.comp"},
  };
}

}  // namespace vkg
