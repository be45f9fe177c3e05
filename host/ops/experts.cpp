// MatMulExperts op: products with the routed experts' rows of a stacked expert weight, one
// dispatch per weight chunk, the expert ids read on the device (layer: host/ops). MoeCombine lives
// in moe_combine.cpp.
#include "host/ops/experts.h"

#include <algorithm>

#include "host/ops/plans/matvec_plan.h"
#include "host/ops/weight_shader.h"

#include "shaders/params/experts_params.h"
#include "vk/check.h"

namespace vkg {
namespace {

using shaders::ShaderId;

// CPU devices (docs/lavapipe.md): 8 rows per subgroup (16 for the quantized types), a
// workgroup of a few whole subgroups (64 invocations at least) whose subgroups loop over the
// workgroup's rows, so any real subgroup size is correct. GPUs: the decode product's plan
// (host/ops/plans/matvec_plan.h) for all slots' rows together, which is what one dispatch launches.
struct Blocking {
  uint32_t workgroup = 64;
  uint32_t rows_per_subgroup = 8;
  uint32_t rows_per_workgroup = 64;
};

Blocking ChooseBlocking(const vk::DeviceCaps& caps, DType t) {
  const uint32_t subgroup = std::max<uint32_t>(caps.max_subgroup_size ? caps.max_subgroup_size : caps.subgroup_size, 1);
  Blocking b;
  b.workgroup = std::max<uint32_t>(64, subgroup);
  b.workgroup = (b.workgroup + subgroup - 1) / subgroup * subgroup;
  b.rows_per_subgroup = IsQuantized(t) ? 16 : 8;
  const uint32_t min_subgroup = std::max<uint32_t>(caps.subgroup_size ? caps.subgroup_size : subgroup, 1);
  b.rows_per_workgroup = b.rows_per_subgroup * std::max<uint32_t>(1, b.workgroup / min_subgroup);
  return b;
}

}  // namespace

void MatMulExperts(OpContext& ctx, const WeightMatrix& w, const ExpertRows& e, const Tensor& x, const Tensor& y) {
  const uint32_t rows_per_expert = e.rows_per_expert, row_begin = e.row_begin, rows = e.rows;
  const uint32_t n_slots = e.n_slots, x_div = e.x_div;
  const vk::BufferSlice& ids = e.ids;
  const std::string& name = w.name;
  VKG_CHECK(x.dtype == DType::F32 && y.dtype == DType::F32, "MatMulExperts '", name, "': x and y must be f32");
  VKG_CHECK(rows_per_expert > 0 && w.rows % rows_per_expert == 0, "MatMulExperts '", name, "': ", w.rows,
            " weight rows are not a stack of experts of ", rows_per_expert, " rows");
  VKG_CHECK(rows > 0 && uint64_t(row_begin) + rows <= rows_per_expert, "MatMulExperts '", name, "': rows [", row_begin,
            ", ", uint64_t(row_begin) + rows, ") are outside an expert's ", rows_per_expert, " rows");
  VKG_CHECK(n_slots > 0 && x_div > 0 && n_slots % x_div == 0, "MatMulExperts '", name, "': ", n_slots,
            " slots with x_div ", x_div, " (need n_slots > 0, a multiple of x_div > 0)");
  VKG_CHECK(x.cols == w.cols, "MatMulExperts '", name, "': x has ", x.cols, " columns, the weight [", w.rows, "][",
            w.cols, "] needs ", w.cols);
  VKG_CHECK(x.rows == n_slots / x_div, "MatMulExperts '", name, "': x has ", x.rows, " rows, ", n_slots,
            " slots with x_div ", x_div, " read ", n_slots / x_div);
  VKG_CHECK(y.rows == n_slots && y.cols == rows, "MatMulExperts '", name, "': y is [", y.rows, "][", y.cols,
            "], expected [", n_slots, "][", rows, "]");
  VKG_CHECK(ids.size >= uint64_t(n_slots) * 4, "MatMulExperts '", name, "': ", n_slots, " slots but ids hold ",
            ids.size / 4);
  VKG_CHECK(x.slice.size >= x.elements() * 4 && y.slice.size >= y.elements() * 4, "MatMulExperts '", name,
            "': tensor slices are smaller than their shapes");
  VKG_CHECK(!w.chunks.empty(), "MatMulExperts '", name, "': weight has no chunks (not uploaded?)");

  Blocking b = ChooseBlocking(ctx.device.caps(), w.dtype);
  if (ctx.GpuKernels()) {
    const MatVecPlan mv = PlanMatVec(ctx.device.caps(), true, w.dtype, uint64_t(rows) * n_slots, w.cols_padded);
    b = Blocking{mv.workgroup, mv.rows_per_subgroup, mv.rows_per_workgroup};
  }
  const bool quantized = IsQuantized(w.dtype);
  vk::SpecConstants spec;
  spec.Set(0, b.workgroup).Set(1, b.rows_per_subgroup).Set(2, b.rows_per_workgroup);
  using K = vk::BindingKind;
  const uint32_t push = sizeof(shaders::ExpertsParams);
  const ShaderId shader =
      WeightShaderFor(shaders::WeightKernel::MatVecExperts, w.dtype, "MatMulExperts '" + name + "'");
  const vk::ComputePipeline& pipeline =
      quantized
          ? ctx.Pipeline(shader, {K::kStorage, K::kStorage, K::kStorage, K::kTexel, K::kTexel, K::kTexel}, push, spec)
          : ctx.Pipeline(shader, {K::kStorage, K::kStorage, K::kStorage, K::kTexel, K::kTexel}, push, spec);
  const vk::Binding x_texels = vk::Binding::Texel(x.slice.buffer->TexelViewOf(x.slice.offset, x.slice.size));

  const uint64_t row_groups = DivUp(rows, b.rows_per_workgroup);
  const uint64_t groups = row_groups * n_slots;
  VKG_CHECK(groups <= uint64_t(65535) * 65535, "MatMulExperts '", name, "': ", groups, " workgroups is too many");
  const Grid g = Grid1D(groups);
  const vk::BufferSlice id_slice = ids.Sub(0, uint64_t(n_slots) * 4);
  for (const WeightChunk& c : w.chunks) {
    shaders::ExpertsParams p{};
    p.k = w.cols;
    p.row_texels = uint32_t(WeightRowBytes(w.dtype, w.cols_padded) / 16);
    p.row_scales = WeightRowScales(w.dtype, w.cols_padded);
    p.rows = rows;
    p.rows_per_expert = rows_per_expert;
    p.row_begin = row_begin;
    p.n_experts = w.rows / rows_per_expert;
    p.n_slots = n_slots;
    p.x_div = x_div;
    p.chunk_row_begin = c.row_begin;
    p.chunk_rows = c.rows;
    p.row_groups = uint32_t(row_groups);
    p.groups = uint32_t(groups);
    // The routed rows of this chunk (a share of every slot's rows) and x.
    const uint64_t row_bytes = WeightRowBytes(w.dtype, w.cols_padded) + WeightScaleRowBytes(w.dtype, w.cols_padded);
    ctx.rec.SetDispatchBytes(uint64_t(n_slots) * rows * row_bytes / w.chunks.size() + x.elements() * 4);
    if (quantized) {
      VKG_CHECK(c.scales != nullptr, "MatMulExperts '", name, "': quantized chunk without scales");
      const vk::Binding bind[] = {Bind(x),
                                  Bind(y),
                                  vk::Binding::Storage(id_slice),
                                  x_texels,
                                  vk::Binding::Texel(*c.data),
                                  vk::Binding::Texel(*c.scales)};
      ctx.rec.Dispatch(pipeline, bind, p, g.x, g.y);
    } else {
      const vk::Binding bind[] = {Bind(x), Bind(y), vk::Binding::Storage(id_slice), x_texels,
                                  vk::Binding::Texel(*c.data)};
      ctx.rec.Dispatch(pipeline, bind, p, g.x, g.y);
    }
  }
}

}  // namespace vkg
