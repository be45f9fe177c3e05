// Integer-dot matrix products (layer: host/ops): selection, geometry and one dispatch per chunk.
#include "host/ops/matmul_int8.h"

#include <algorithm>

#include "host/ops/matmul_chunks.h"
#include "host/ops/plans/matmul_int8_plan.h"
#include "host/ops/weight_shader.h"
#include "shaders/params/matmul_params.h"
#include "vk/check.h"

namespace vkg {

bool UsesIntegerDot(const OpContext& ctx, DType t) {
  return UsesIntegerDot(ctx.device.caps(), ctx.kernels, ctx.features, t);
}

bool UsesIntegerDot(const vk::DeviceCaps& c, KernelFamily kernels, const KernelFeatures& features, DType t) {
#if VKG_SHADERS_INTEGER_DOT
  // q8_0 / q4_0 only: the K-quants (sub-block scales and mins per 32 values) take the float kernels.
  if (t != DType::Q8_0 && t != DType::Q4_0) return false;
  if (!GpuFamily(c, kernels)) return false;
  // The prefill kernel's 256-invocation workgroups (Vulkan guarantees only 128).
  if (!c.integer_dot_feature || c.max_workgroup_invocations < MatMulInt8Plan::kWorkgroup ||
      c.max_shared_memory < MatMulInt8Plan::kSharedBytes)
    return false;
  switch (features.integer_dot) {
    case FeatureUse::kOff: return false;
    case FeatureUse::kForce: return true;
    case FeatureUse::kAuto: return c.integer_dot_product;
  }
  return false;
#else
  (void)c, (void)kernels, (void)features, (void)t;
  return false;
#endif
}

#if VKG_SHADERS_INTEGER_DOT
namespace {

// One dispatch per weight chunk. gelu_pairs: the GELU_PAIRS decode variant over a single chunk of
// 2n rows (n outputs, up rows n further than gate rows), planned on the outputs as matvec.comp is.
void Dispatch(OpContext& ctx, const WeightMatrix& w, const Int8Activations& x, const Tensor& y,
              const MatMulOptions& options, bool gelu_pairs, const BlockEnd* end = nullptr) {
  VKG_CHECK(UsesIntegerDot(ctx, w.dtype), "MatMulInt8 '", w.name, "': the integer-dot path is not available here");
  VKG_CHECK(y.dtype == DType::F32, "MatMulInt8 '", w.name, "': y must be f32");
  const uint32_t outputs = gelu_pairs ? w.rows / 2 : w.rows;
  VKG_CHECK(x.cols == w.cols && y.cols == outputs && x.rows == y.rows && x.rows > 0, "MatMulInt8 '", w.name,
            "': x is [", x.rows, "][", x.cols, "] and y [", y.rows, "][", y.cols, "], the weight [", w.rows, "][",
            w.cols, "]");
  VKG_CHECK(x.blocks() == w.cols_padded / kQuantBlock, "MatMulInt8 '", w.name, "': block counts differ");
  VKG_CHECK(!w.chunks.empty(), "MatMulInt8 '", w.name, "': weight has no chunks (not uploaded?)");
  VKG_CHECK(!gelu_pairs || (x.rows == 1 && w.chunks.size() == 1 && w.rows % 2 == 0), "MatMulInt8 '", w.name,
            "': gelu pairs need one token and one chunk");
  const vk::DeviceCaps& caps = ctx.device.caps();
  const bool decode = x.rows == 1;
  using shaders::ShaderId;
  using shaders::WeightKernel;
  vk::SpecConstants spec;
  uint32_t rows_per_workgroup = 0;  // weight rows
  ShaderId shader;
  if (decode) {
    MatVecPlan plan = PlanMatVecInt8(caps, w.dtype, outputs, w.cols_padded);
    if (options.force.decode_rows_per_subgroup && options.force.decode_subgroups) {  // tests: every geometry
      plan.workgroup = std::max<uint32_t>(caps.subgroup_size, 1) * options.force.decode_subgroups;
      plan.rows_per_subgroup = options.force.decode_rows_per_subgroup;
      plan.rows_per_workgroup = options.force.decode_rows_per_subgroup * options.force.decode_subgroups;
    }
    const uint32_t pair = gelu_pairs ? 2 : 1;  // weight rows per output
    spec.Set(0, plan.workgroup).Set(1, pair * plan.rows_per_subgroup).Set(2, pair * plan.rows_per_workgroup);
    rows_per_workgroup = pair * plan.rows_per_workgroup;
    shader = WeightShaderFor(gelu_pairs ? WeightKernel::MatVecInt8GeluPairs
                             : end      ? WeightKernel::MatVecInt8EndBlock
                                        : WeightKernel::MatVecInt8,
                             w.dtype, "MatMulInt8");
  } else {
    spec.Set(0, MatMulInt8Plan::kWorkgroup);
    rows_per_workgroup = MatMulInt8Plan::kTileRows;
    shader = WeightShaderFor(WeightKernel::MatMulInt8Tiled, w.dtype, "MatMulInt8");
  }
  // Bindings x quants, y, x scales (storage), then the weight texels: the X_GELU_MUL layout.
  VKG_CHECK(!end || decode, "MatMulInt8 '", w.name, "': a block end needs one token");
  const vk::ComputePipeline& pipeline =
      MatMulPipeline(ctx, shader, /*quantized=*/true, spec, /*up_storage=*/true, end != nullptr);
  DispatchMatMulChunks(
      ctx, w, pipeline,
      {.inputs = {vk::Binding::Storage(x.quants), vk::Binding::Storage(y.slice), vk::Binding::Storage(x.scales)},
       .m_tokens = x.rows,
       .rows_per_workgroup = rows_per_workgroup,
       .token_groups = decode ? 1 : DivUp(x.rows, MatMulInt8Plan::kTileTokens),
       .softcap = options.softcap,
       .x_bytes = x.quants.size + x.scales.size,
       .gelu_pairs = gelu_pairs,
       .end = end});
}

}  // namespace
#endif

void MatMulInt8(OpContext& ctx, const WeightMatrix& w, const Int8Activations& x, const Tensor& y,
                const MatMulOptions& options) {
#if VKG_SHADERS_INTEGER_DOT
  Dispatch(ctx, w, x, y, options, false);
#else
  (void)ctx, (void)w, (void)x, (void)y, (void)options;
  throw vk::Error("MatMulInt8: built with a shader compiler without GL_EXT_integer_dot_product");
#endif
}

bool MatVecInt8EndBlockApplies(const OpContext& ctx, const WeightMatrix& w) {
#if VKG_SHADERS_INTEGER_DOT
  return PlanMatVecInt8(ctx.device.caps(), w.dtype, w.rows, w.cols_padded).workgroup % 8 == 0;
#else
  (void)ctx, (void)w;
  return false;
#endif
}

void MatVecInt8EndBlock(OpContext& ctx, const WeightMatrix& w, const Int8Activations& x, const Tensor& y,
                        const BlockEnd& end) {
#if VKG_SHADERS_INTEGER_DOT
  Dispatch(ctx, w, x, y, {}, false, &end);
#else
  (void)ctx, (void)w, (void)x, (void)y, (void)end;
  throw vk::Error("MatVecInt8EndBlock: built with a shader compiler without GL_EXT_integer_dot_product");
#endif
}

void MatVecInt8GeluPairs(OpContext& ctx, const WeightMatrix& gate_up, const Int8Activations& x, const Tensor& act,
                         const MatMulOptions& options) {
#if VKG_SHADERS_INTEGER_DOT
  Dispatch(ctx, gate_up, x, act, options, true);
#else
  (void)ctx, (void)gate_up, (void)x, (void)act, (void)options;
  throw vk::Error("MatVecInt8GeluPairs: built with a shader compiler without GL_EXT_integer_dot_product");
#endif
}

}  // namespace vkg
