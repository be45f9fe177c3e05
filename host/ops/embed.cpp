// Embedding gather op (layer: host/ops).
#include "host/ops/embed.h"

#include "host/ops/plans/embed_plan.h"
#include "host/ops/weight_shader.h"
#include "shaders/params/embed_params.h"
#include "vk/check.h"

namespace vkg {

void Embed(OpContext& ctx, const WeightMatrix& table, const vk::BufferSlice& ids, const Tensor& out, float scale) {
  VKG_CHECK(out.dtype == DType::F32 && out.cols == table.cols, "Embed: output rows have ", out.cols,
            " columns, table '", table.name, "' has ", table.cols);
  VKG_CHECK(ids.size >= uint64_t(out.rows) * 4, "Embed: ", out.rows, " tokens but ids hold ", ids.size / 4);
  using vk::BindingKind;
  const EmbedPlan plan = PlanEmbed(ctx.GpuKernels(), table.dtype, out.cols, table.cols_padded, out.rows);
  const auto& p =
      ctx.Pipeline(WeightShaderFor(plan.rows ? shaders::WeightKernel::EmbedRows : shaders::WeightKernel::Embed,
                                   table.dtype, "Embed"),
                   {BindingKind::kTexel, BindingKind::kTexel, BindingKind::kStorage, BindingKind::kStorage},
                   sizeof(shaders::EmbedParams), vk::SpecConstants().Set(0, kElementwiseWorkgroup));
  for (const WeightChunk& c : table.chunks) {
    const shaders::EmbedParams params{out.rows, out.cols, table.cols_padded, c.row_begin, c.rows, scale};
    const vk::Binding b[] = {vk::Binding::Texel(*c.data), vk::Binding::Texel(c.scales ? *c.scales : *c.data),
                             vk::Binding::Storage(ids), Bind(out)};
    // Each token's row lies in one chunk (unknown here: the ids are on the device), so each
    // chunk's dispatch is credited an equal share of the rows read, plus the ids.
    const uint64_t row_bytes =
        WeightRowBytes(table.dtype, table.cols_padded) + WeightScaleRowBytes(table.dtype, table.cols_padded);
    ctx.rec.SetDispatchBytes(uint64_t(out.rows) * row_bytes / table.chunks.size() + uint64_t(out.rows) * 4);
    ctx.rec.Dispatch(p, b, params, plan.grid.x, plan.grid.y);
  }
}

}  // namespace vkg
