// Elementwise ops (layer: host/ops).
#include "host/ops/elementwise.h"

#include <algorithm>
#include <vector>

#include "shaders/params/elementwise_params.h"
#include "shaders/params/gelu_params.h"
#include "vk/check.h"

namespace vkg {
namespace {

using vk::BindingKind;

void CheckSame(const char* op, const Tensor& a, const Tensor& b) {
  VKG_CHECK(a.dtype == DType::F32 && b.dtype == DType::F32, op, ": tensors must be f32");
  VKG_CHECK(a.elements() == b.elements(), op, ": ", a.elements(), " values vs ", b.elements());
}

void Record(OpContext& ctx, shaders::ShaderId id, std::initializer_list<vk::Binding> bindings,
            const shaders::ElementwiseParams& params) {
  std::vector<BindingKind> kinds(bindings.size(), BindingKind::kStorage);
  const auto& p = ctx.pipelines.Get({shaders::Spirv(id), shaders::Name(id), kinds, sizeof(params),
                                     vk::SpecConstants().Set(0, kElementwiseWorkgroup)});
  const Grid g = Grid1D(DivUp(params.n, kElementwiseWorkgroup));
  // Every binding but the last (the output, or the in-place tensor itself) is read; each n floats.
  ctx.rec.SetDispatchBytes(uint64_t(params.n) * 4 * std::max<size_t>(bindings.size() - 1, 1));
  ctx.rec.Dispatch(p, std::span<const vk::Binding>(bindings.begin(), bindings.size()), params, g.x, g.y);
}

void RecordGeluMul(OpContext& ctx, const Tensor& gate, const Tensor& up, const Tensor& out,
                   const shaders::GeluMulParams& params) {
  // 4 outputs per invocation with 16-byte loads (gelu_mul.comp VEC4) where every row and binding
  // is 16-byte aligned; workgroups of 64 so that decode's few thousand outputs still spread over
  // dozens of compute units. Both families: on lavapipe too vec4 measured 2-3.5x faster
  // (vkg_bench_ops --kernels gpu|cpu --filter gelu, 3 alternations: 64x12288 3.6-4.0 vs 13-14 ms).
  const bool vec4 = params.cols % 4 == 0 && params.in_stride % 4 == 0 && params.up_offset % 4 == 0 &&
                    gate.slice.offset % 16 == 0 && up.slice.offset % 16 == 0 && out.slice.offset % 16 == 0;
  const auto S = BindingKind::kStorage;
  const auto& p = ctx.Pipeline(vec4 ? shaders::ShaderId::GeluMulVec4 : shaders::ShaderId::GeluMul, {S, S, S},
                               sizeof(params), vk::SpecConstants().Set(0, kElementwiseWorkgroup));
  const vk::Binding b[] = {Bind(gate), Bind(up), Bind(out)};
  const Grid g = Grid1D(DivUp(vec4 ? params.n / 4 : params.n, kElementwiseWorkgroup));
  ctx.rec.SetDispatchBytes(uint64_t(params.n) * 2 * 4);  // a gate and an up value per output
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

}  // namespace

void GeluMul(OpContext& ctx, const Tensor& gate, const Tensor& up, const Tensor& out) {
  CheckSame("GeluMul", gate, up);
  CheckSame("GeluMul", gate, out);
  const uint32_t n = uint32_t(out.elements());
  RecordGeluMul(ctx, gate, up, out, {n, n, n, 0u});
}

void GeluMulPairs(OpContext& ctx, const Tensor& gate_up, const Tensor& out) {
  VKG_CHECK(gate_up.dtype == DType::F32 && out.dtype == DType::F32, "GeluMulPairs: tensors must be f32");
  VKG_CHECK(gate_up.rows == out.rows && gate_up.cols == 2 * out.cols, "GeluMulPairs: gate_up is [", gate_up.rows, ", ",
            gate_up.cols, "], out [", out.rows, ", ", out.cols, "]");
  RecordGeluMul(ctx, gate_up, gate_up, out, {uint32_t(out.elements()), out.cols, gate_up.cols, out.cols});
}

void Softcap(OpContext& ctx, const Tensor& x, float cap) {
  VKG_CHECK(cap > 0.f, "Softcap: cap must be positive, got ", cap);
  CheckSame("Softcap", x, x);
  Record(ctx, shaders::ShaderId::Softcap, {Bind(x)}, {uint32_t(x.elements()), cap, 0u, 0u});
}

void AddScaled(OpContext& ctx, const Tensor& a, const Tensor& b, const Tensor& out, float scale) {
  const bool has_b = b.slice.buffer != nullptr;
  CheckSame("AddScaled", a, out);
  if (has_b) CheckSame("AddScaled", a, b);
  Record(ctx, shaders::ShaderId::AddScaled, {Bind(a), Bind(has_b ? b : a), Bind(out)},
         {uint32_t(out.elements()), scale, has_b ? 1u : 0u, 0u});
}

}  // namespace vkg
