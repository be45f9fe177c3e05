// Prefill products on matrix units (VK_KHR_cooperative_matrix; shaders/matmul_coopmat.comp), and
// the same kernel on emulated fragments for devices without them (layer: host/ops).
#pragma once
#include "host/ops/matmul.h"
#include "host/ops/op_context.h"
#include "host/ops/plans/matmul_coopmat_plan.h"

namespace vkg {

// Which matrix-unit path MatMul's prefill products (M > 1; f16, bf16, q8_0 and q4_0 weights) take
// in a context: kMatrixUnits where the GPU kernel family runs, the shader compiler built the
// kernels (VKG_SHADERS_COOPMAT), the device lists a usable f16 x f16 -> f32 subgroup shape
// (DeviceCaps::coopmat_f16) and KernelFeatures::cooperative_matrix is not kOff (kAuto and kForce
// agree: a device that has the units accelerates them; without them there is no real path to
// force). kEmulated where KernelFeatures::emulate_cooperative_matrix asks for it (tests). f32 weights
// keep the tiled kernel on every path.
enum class CoopMatPath { kNone, kMatrixUnits, kEmulated };
CoopMatPath CoopMatPrefillPath(const OpContext& ctx);
// The same rule for a device description (what `vkgemma devices` and bench report).
CoopMatPath CoopMatPrefillPath(const vk::DeviceCaps& caps, KernelFamily kernels, const KernelFeatures& features);
inline bool UsesCoopMatPrefill(const OpContext& ctx) { return CoopMatPrefillPath(ctx) != CoopMatPath::kNone; }
const char* CoopMatPathName(CoopMatPath p);  // "none", "matrix units", "emulated"

// True where this build holds the real matrix-unit kernels (a compiler with GL_KHR_cooperative_matrix).
bool CoopMatKernelsCompiled();

// Records y = x W^T on the matrix-unit kernel where options.force.prefill_kernel (kCoopMat,
// kCoopMatEmulated) or, for kAuto, CoopMatPrefillPath selects it; returns false, recording nothing,
// otherwise (decode, f32 weights, other kernels). Shapes are checked by the caller (MatMul).
bool MatMulCoopMat(OpContext& ctx, const WeightMatrix& w, const Tensor& x, const Tensor& y,
                   const MatMulOptions& options);

}  // namespace vkg
