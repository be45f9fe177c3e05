// RMSNorm op (layer: host/ops).
#include "host/ops/rms_norm.h"

#include "host/ops/plans/row_plan.h"
#include "shaders/params/norm_params.h"
#include "vk/check.h"

namespace vkg {

void RmsNorm(OpContext& ctx, const Tensor& x, const Tensor& w, const Tensor& y, float eps) {
  const bool has_weight = w.slice.buffer != nullptr;
  VKG_CHECK(x.dtype == DType::F32 && y.dtype == DType::F32, "RmsNorm: x and y must be f32");
  VKG_CHECK(x.rows == y.rows && x.cols == y.cols, "RmsNorm: x is [", x.rows, ", ", x.cols, "], y is [", y.rows, ", ",
            y.cols, "]");
  VKG_CHECK(!has_weight || w.elements() == x.cols, "RmsNorm: weight has ", w.elements(), " values, rows have ", x.cols);
  using vk::BindingKind;
  const BindingKind S = BindingKind::kStorage;
  const shaders::RowParams params{x.rows, x.cols, eps, has_weight ? 1u : 0u};
  const vk::Binding b[] = {Bind(x), Bind(has_weight ? w : x), Bind(y)};
  const Grid g = Grid1D(x.rows);
  ctx.rec.SetDispatchBytes((x.elements() + (has_weight ? x.cols : 0)) * 4);
  // GPUs: a workgroup per row with the row in registers (rms_norm_rows.comp); CPU devices, and
  // rows too long for the registers: rms_norm.comp's 64-lane loops.
  const RowPlan plan = PlanRow(x.cols, {&x, &y, &w});
  if (!UseCpuKernels(ctx) && plan.fits()) {
    const auto& p =
        ctx.Pipeline(plan.vec4 ? shaders::ShaderId::RmsNormRowsVec4 : shaders::ShaderId::RmsNormRows, {S, S, S},
                     sizeof(params), vk::SpecConstants().Set(0, plan.workgroup).Set(1, plan.per));
    ctx.rec.Dispatch(p, b, params, g.x, g.y);
    return;
  }
  const auto& p = ctx.Pipeline(shaders::ShaderId::RmsNorm, {S, S, S}, sizeof(shaders::RowParams),
                               vk::SpecConstants().Set(0, kElementwiseWorkgroup));
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

bool ResidualRmsNorm(OpContext& ctx, const Tensor& x, const Tensor& y, const Tensor& w_out, float scale,
                     const Tensor& w_next, const Tensor& a, float eps, const Int8Activations* int8_out) {
  const bool has_next = w_next.slice.buffer != nullptr;
  VKG_CHECK(x.dtype == DType::F32 && y.dtype == DType::F32, "ResidualRmsNorm: x and y must be f32");
  VKG_CHECK(x.rows == y.rows && x.cols == y.cols, "ResidualRmsNorm: x is [", x.rows, ", ", x.cols, "], y is [", y.rows,
            ", ", y.cols, "]");
  VKG_CHECK(w_out.elements() == x.cols, "ResidualRmsNorm: output norm has ", w_out.elements(), " values, rows have ",
            x.cols);
  VKG_CHECK(!has_next || (w_next.elements() == x.cols && a.dtype == DType::F32 && a.rows == x.rows && a.cols == x.cols),
            "ResidualRmsNorm: next norm or its output does not match rows of ", x.cols);
  using vk::BindingKind;
  const BindingKind S = BindingKind::kStorage;
  shaders::ResidualNormParams params{};
  params.rows = x.rows;
  params.dim = x.cols;
  params.eps = eps;
  params.scale = scale;
  params.has_next = has_next ? 1u : 0u;
  // Without a next norm, w_out and x stand in for the unused bindings (never accessed).
  const vk::Binding b[] = {Bind(x), Bind(y), Bind(w_out), Bind(has_next ? w_next : w_out), Bind(has_next ? a : x)};
  const Grid g = Grid1D(x.rows);
  ctx.rec.SetDispatchBytes((2 * x.elements() + uint64_t(x.cols) * (has_next ? 2 : 1)) * 4);  // x, y, the norms
  const RowPlan plan = PlanRow(x.cols, {&x, &y, &w_out, &w_next, &a});
  if (int8_out && !UseCpuKernels(ctx) && plan.fits() && plan.vec4) {
    VKG_CHECK(int8_out->rows == x.rows && int8_out->cols == x.cols, "ResidualRmsNorm: the int8 layout is [",
              int8_out->rows, "][", int8_out->cols, "], rows are [", x.rows, "][", x.cols, "]");
    const vk::Binding bq[] = {Bind(x),
                              Bind(y),
                              Bind(w_out),
                              Bind(has_next ? w_next : w_out),
                              Bind(has_next ? a : x),
                              vk::Binding::Storage(int8_out->quants),
                              vk::Binding::Storage(int8_out->scales)};
    const auto& p = ctx.Pipeline(shaders::ShaderId::ResidualNormRowsVec4Int8, {S, S, S, S, S, S, S}, sizeof(params),
                                 vk::SpecConstants().Set(0, plan.workgroup).Set(1, plan.per));
    ctx.rec.Dispatch(p, bq, params, g.x, g.y);
    return true;
  }
  if (!UseCpuKernels(ctx) && plan.fits()) {
    const auto& p =
        ctx.Pipeline(plan.vec4 ? shaders::ShaderId::ResidualNormRowsVec4 : shaders::ShaderId::ResidualNormRows,
                     {S, S, S, S, S}, sizeof(params), vk::SpecConstants().Set(0, plan.workgroup).Set(1, plan.per));
    ctx.rec.Dispatch(p, b, params, g.x, g.y);
    return false;
  }
  const auto& p = ctx.Pipeline(shaders::ShaderId::ResidualNorm, {S, S, S, S, S}, sizeof(shaders::ResidualNormParams),
                               vk::SpecConstants().Set(0, kElementwiseWorkgroup));
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
  return false;
}

}  // namespace vkg
