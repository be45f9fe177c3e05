// Elementwise ops (layer: host/ops).
#include "host/ops/elementwise.h"

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
  const auto& p = ctx.pipelines.Get({shaders::Spirv(id), shaders::Name(id), kinds,
                                     sizeof(params), vk::SpecConstants().Set(0, kElementwiseWorkgroup)});
  const Grid g = Grid1D(DivUp(params.n, kElementwiseWorkgroup));
  ctx.rec.Dispatch(p, std::span<const vk::Binding>(bindings.begin(), bindings.size()), params, g.x, g.y);
}

void RecordGeluMul(OpContext& ctx, const Tensor& gate, const Tensor& up, const Tensor& out,
                   const shaders::GeluMulParams& params) {
  const auto& p = ctx.Pipeline(shaders::ShaderId::GeluMul, {BindingKind::kStorage, BindingKind::kStorage,
                               BindingKind::kStorage}, sizeof(params), vk::SpecConstants().Set(0, kElementwiseWorkgroup));
  const vk::Binding b[] = {Bind(gate), Bind(up), Bind(out)};
  const Grid g = Grid1D(DivUp(params.n, kElementwiseWorkgroup));
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
  VKG_CHECK(gate_up.rows == out.rows && gate_up.cols == 2 * out.cols, "GeluMulPairs: gate_up is [", gate_up.rows,
            ", ", gate_up.cols, "], out [", out.rows, ", ", out.cols, "]");
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
