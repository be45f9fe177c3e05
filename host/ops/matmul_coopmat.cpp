// The matrix-unit prefill product: path selection, plan and dispatch (layer: host/ops).
#include "host/ops/matmul_coopmat.h"

#include "host/ops/matmul_chunks.h"
#include "host/ops/weight_shader.h"
#include "vk/check.h"

namespace vkg {
namespace {

using shaders::ShaderId;

// The matrix-unit kernel (or its emulation) for weights of type t: every format but f32.
ShaderId CoopMatShader(shaders::WeightKernel kernel, DType t) {
  if (t == DType::F32) {
    throw vk::Error("MatMulCoopMat: f32 weights have no matrix-unit kernel (they stay on matmul_tiled.comp)");
  }
  if (kernel == shaders::WeightKernel::MatMulCoopmat && !VKG_SHADERS_COOPMAT) {
    throw vk::Error("MatMulCoopMat: this build's shader compiler could not build the matrix-unit kernels");
  }
  return WeightShaderFor(kernel, t, "MatMulCoopMat");
}

}  // namespace

bool CoopMatKernelsCompiled() { return VKG_SHADERS_COOPMAT != 0; }

CoopMatPath CoopMatPrefillPath(const OpContext& ctx) {
  return CoopMatPrefillPath(ctx.device.caps(), ctx.kernels, ctx.features);
}

CoopMatPath CoopMatPrefillPath(const vk::DeviceCaps& caps, KernelFamily kernels, const KernelFeatures& features) {
  if (!GpuFamily(caps, kernels) || features.cooperative_matrix == FeatureUse::kOff) return CoopMatPath::kNone;
  if (features.emulate_cooperative_matrix) return CoopMatPath::kEmulated;
  if (CoopMatKernelsCompiled() && caps.HasCoopMatF16()) return CoopMatPath::kMatrixUnits;
  return CoopMatPath::kNone;
}

const char* CoopMatPathName(CoopMatPath p) {
  switch (p) {
    case CoopMatPath::kNone: return "none";
    case CoopMatPath::kMatrixUnits: return "matrix units";
    case CoopMatPath::kEmulated: return "emulated";
  }
  return "?";
}

bool MatMulCoopMat(OpContext& ctx, const WeightMatrix& w, const Tensor& x, const Tensor& y,
                   const MatMulOptions& options) {
  using PK = MatMulOverrides::PrefillKernel;
  if (x.rows < 2) return false;  // decode: matvec
  CoopMatPath path = CoopMatPath::kNone;
  if (options.force.prefill_kernel == PK::kCoopMatEmulated) {
    path = CoopMatPath::kEmulated;
  } else if (options.force.prefill_kernel == PK::kCoopMat) {
    VKG_CHECK(
        CoopMatKernelsCompiled() && ctx.device.caps().HasCoopMatF16(), "MatMul '", w.name,
        "': the matrix-unit kernel needs VK_KHR_cooperative_matrix with an f16 shape and a build that compiled it");
    path = CoopMatPath::kMatrixUnits;
  } else if (options.force.prefill_kernel == PK::kAuto) {
    // Every prefill size: both this kernel and the tiled one read each weight once per token tile,
    // and the units make the arithmetic nearly free, so no M favours the tiled kernel.
    path = w.dtype == DType::F32 ? CoopMatPath::kNone : CoopMatPrefillPath(ctx);
  }
  if (path == CoopMatPath::kNone) return false;

  const vk::DeviceCaps& caps = ctx.device.caps();
  vk::CoopMatShape unit = caps.coopmat_f16;
  uint32_t lanes = caps.subgroup_size;
  ShaderId shader{};
  if (path == CoopMatPath::kEmulated) {
    unit.m = options.force.coopmat_m;
    unit.n = options.force.coopmat_n;
    unit.k = options.force.coopmat_k;
    VKG_CHECK(unit.m && unit.n && unit.m <= 16 && unit.n <= 16 && unit.m * unit.n % kCoopMatEmulatedLanes == 0 &&
                  unit.k && kCoopMatMinStepK % unit.k == 0,
              "MatMul '", w.name, "': cannot emulate a ", unit.m, "x", unit.n, "x", unit.k, " unit");
    lanes = kCoopMatEmulatedLanes;
    shader = CoopMatShader(shaders::WeightKernel::MatMulCoopmatEmulated, w.dtype);
  } else {
    shader = CoopMatShader(shaders::WeightKernel::MatMulCoopmat, w.dtype);
  }
  CoopMatPlan plan = PlanCoopMat(caps, unit, lanes, x.rows, w.rows);
  if (options.force.coopmat_frag_m && options.force.coopmat_frag_n) {  // tests: every tile the plan may pick
    plan.frag_m = options.force.coopmat_frag_m;
    plan.frag_n = options.force.coopmat_frag_n;
    ChooseCoopMatStep(plan, x.rows, w.rows, caps.max_shared_memory);
  }
  if (options.force.coopmat_step_k) {
    VKG_CHECK(options.force.coopmat_step_k == kCoopMatStepK || options.force.coopmat_step_k == kCoopMatMinStepK,
              "MatMul '", w.name, "': the matrix-unit kernel steps 32 or 64 K values, not ",
              options.force.coopmat_step_k);
    plan.step_k = options.force.coopmat_step_k;
    DeriveCoopMatPlan(plan, x.rows, w.rows);
  }
  VKG_CHECK(plan.shared_bytes <= caps.max_shared_memory, "MatMul '", w.name, "': a ", plan.tile_m, "x", plan.tile_n,
            " tile needs ", plan.shared_bytes, " bytes of shared memory, more than the device has");
  VKG_CHECK(plan.workgroup <= caps.max_workgroup_invocations, "MatMul '", w.name, "': ", plan.workgroup,
            " invocations per workgroup is more than the device allows");
  const vk::SpecConstants spec = vk::SpecConstants()
                                     .Set(0, plan.workgroup)
                                     .Set(1, plan.fm)
                                     .Set(2, plan.fn)
                                     .Set(3, plan.fk)
                                     .Set(4, plan.sg_m)
                                     .Set(5, plan.sg_n)
                                     .Set(6, plan.frag_m)
                                     .Set(7, plan.frag_n)
                                     .Set(8, plan.step_k);
  const vk::ComputePipeline& pipeline = MatMulPipeline(ctx, shader, IsQuantized(w.dtype), spec);
  const vk::Binding x_texels = vk::Binding::Texel(x.slice.buffer->TexelViewOf(x.slice.offset, x.slice.size));
  DispatchMatMulChunks(ctx, w, pipeline,
                       {.inputs = {vk::Binding::Storage(x.slice), vk::Binding::Storage(y.slice), x_texels},
                        .m_tokens = x.rows,
                        .rows_per_workgroup = plan.tile_n,
                        .token_groups = DivUp(x.rows, plan.tile_m),
                        .softcap = options.softcap,
                        .x_bytes = x.elements() * 4});
  return true;
}

}  // namespace vkg
