// Embedding gather op (layer: host/ops).
#include "host/ops/embed.h"

#include "host/ops/plans/embed_plan.h"
#include "shaders/params/embed_params.h"
#include "vk/check.h"

namespace vkg {
namespace {

shaders::ShaderId EmbedShader(DType t, bool rows) {
  using shaders::ShaderId;
  switch (t) {
    case DType::F32: return rows ? ShaderId::EmbedRowsF32 : ShaderId::EmbedF32;
    case DType::F16: return rows ? ShaderId::EmbedRowsF16 : ShaderId::EmbedF16;
    case DType::BF16: return rows ? ShaderId::EmbedRowsBF16 : ShaderId::EmbedBF16;
    case DType::Q8_0: return rows ? ShaderId::EmbedRowsQ8_0 : ShaderId::EmbedQ8_0;
    case DType::Q4_0: return rows ? ShaderId::EmbedRowsQ4_0 : ShaderId::EmbedQ4_0;
    case DType::Q4_K: return rows ? ShaderId::EmbedRowsQ4_K : ShaderId::EmbedQ4_K;
    case DType::Q5_K: return rows ? ShaderId::EmbedRowsQ5_K : ShaderId::EmbedQ5_K;
    case DType::Q6_K: return rows ? ShaderId::EmbedRowsQ6_K : ShaderId::EmbedQ6_K;
    case DType::Q2_K: return rows ? ShaderId::EmbedRowsQ2_K : ShaderId::EmbedQ2_K;
    case DType::Q3_K: return rows ? ShaderId::EmbedRowsQ3_K : ShaderId::EmbedQ3_K;
    case DType::Q4_1: return rows ? ShaderId::EmbedRowsQ4_1 : ShaderId::EmbedQ4_1;
    case DType::Q5_0: return rows ? ShaderId::EmbedRowsQ5_0 : ShaderId::EmbedQ5_0;
    case DType::Q5_1: return rows ? ShaderId::EmbedRowsQ5_1 : ShaderId::EmbedQ5_1;
  }
  throw vk::Error("Embed: unknown weight type");
}

}  // namespace

void Embed(OpContext& ctx, const WeightMatrix& table, const vk::BufferSlice& ids, const Tensor& out,
           float scale) {
  VKG_CHECK(out.dtype == DType::F32 && out.cols == table.cols, "Embed: output rows have ", out.cols,
            " columns, table '", table.name, "' has ", table.cols);
  VKG_CHECK(ids.size >= uint64_t(out.rows) * 4, "Embed: ", out.rows, " tokens but ids hold ", ids.size / 4);
  using vk::BindingKind;
  const EmbedPlan plan = PlanEmbed(ctx.GpuKernels(), table.dtype, out.cols, table.cols_padded, out.rows);
  const auto& p = ctx.Pipeline(EmbedShader(table.dtype, plan.rows),
                               {BindingKind::kTexel, BindingKind::kTexel, BindingKind::kStorage, BindingKind::kStorage},
                               sizeof(shaders::EmbedParams), vk::SpecConstants().Set(0, kElementwiseWorkgroup));
  for (const WeightChunk& c : table.chunks) {
    const shaders::EmbedParams params{out.rows, out.cols, table.cols_padded, c.row_begin, c.rows, scale};
    const vk::Binding b[] = {vk::Binding::Texel(*c.data), vk::Binding::Texel(c.scales ? *c.scales : *c.data),
                             vk::Binding::Storage(ids), Bind(out)};
    // Each token's row lies in one chunk (unknown here: the ids are on the device), so each
    // chunk's dispatch is credited an equal share of the rows read, plus the ids.
    const uint64_t row_bytes = WeightRowBytes(table.dtype, table.cols_padded) +
                               WeightScaleRowBytes(table.dtype, table.cols_padded);
    ctx.rec.SetDispatchBytes(uint64_t(out.rows) * row_bytes / table.chunks.size() + uint64_t(out.rows) * 4);
    ctx.rec.Dispatch(p, b, params, plan.grid.x, plan.grid.y);
  }
}

}  // namespace vkg
