// MatMul op: picks the kernel variant and its blocking, then dispatches once per weight chunk
// (layer: host/ops).
#include "host/ops/matmul.h"

#include <algorithm>
#include <array>
#include <span>

#include "host/ops/matmul_chunks.h"
#include "host/ops/matmul_coopmat.h"
#include "host/ops/matmul_int8.h"
#include "host/ops/plans/matvec_plan.h"
#include "host/ops/plans/row_plan.h"
#include "host/ops/quantize_activations.h"
#include "host/ops/weight_shader.h"
#include "shaders/params/matmul_params.h"
#include "shaders/params/norm_params.h"
#include "vk/check.h"

namespace vkg {
namespace {

using shaders::ShaderId;

using shaders::WeightKernel;

// Blocking: decode comes from PlanMatVec (host/ops/plans/matvec_plan.h); prefill blocks 4 rows x 8
// tokens per subgroup (more on CPU devices, docs/lavapipe.md) or uses the tiled kernel. The
// workgroup is a few whole subgroups; the kernels loop their subgroups over the workgroup's rows,
// so any real subgroup size is correct.
struct Blocking {
  bool rows_per_invocation = false;  // decode: matvec_rows.comp (rows_per_subgroup is per invocation)
  bool tiled = false;                // prefill: matmul_tiled.comp (fixed 32-token x 64-row tiles)
  uint32_t workgroup = 64;
  uint32_t rows_per_subgroup = 4;
  uint32_t rows_per_workgroup = 32;
  uint32_t tokens = 1;
};

Blocking ChooseBlocking(const vk::DeviceCaps& caps, bool cpu, DType t, uint64_t rows, uint32_t cols_padded, bool decode,
                        const MatMulOptions& options) {
  const MatMulOverrides::DecodeKernel kernel = options.force.decode_kernel;
  const uint32_t subgroup = std::max<uint32_t>(caps.max_subgroup_size ? caps.max_subgroup_size : caps.subgroup_size, 1);
  Blocking b;
  b.workgroup = std::max<uint32_t>(64, subgroup);
  b.workgroup = (b.workgroup + subgroup - 1) / subgroup * subgroup;
  // Prefill: each lane holds rows x 8 token accumulators. On CPU devices (lavapipe: vector
  // registers are plentiful, fetches expensive) more rows amortise the x fetches: 4 -> 32 rows took
  // 1536x6144 q4_0 at 64 tokens from 10.6 to 24 GFLOP/s (bench/results/lavapipe-ops.md); q8_0
  // peaked at 16. GPUs keep 4 (32 accumulators per lane) until measured on one.
  const uint32_t prefill_rows = !cpu ? 4 : (t == DType::Q8_0 ? 16 : 32);
  b.rows_per_subgroup = prefill_rows;
  b.tokens = decode ? 1 : 8;
  const uint32_t min_subgroup = std::max<uint32_t>(caps.subgroup_size ? caps.subgroup_size : subgroup, 1);
  b.rows_per_workgroup = b.rows_per_subgroup * std::max<uint32_t>(1, b.workgroup / min_subgroup);
  // Decode: host/ops/plans/matvec_plan.cpp (matvec_rows.comp on CPU devices, matvec.comp on GPUs).
  using DK = MatMulOverrides::DecodeKernel;
  if (decode) {
    const bool rows_kernel = kernel == DK::kRowsPerInvocation || (kernel == DK::kAuto && cpu);
    const MatVecPlan mv = PlanMatVec(caps, !rows_kernel, t, rows, cols_padded);
    b.rows_per_invocation = mv.rows_per_invocation;
    b.workgroup = mv.workgroup;
    b.rows_per_subgroup = mv.rows_per_subgroup;
    b.rows_per_workgroup = mv.rows_per_workgroup;
    if (!rows_kernel && options.force.decode_rows_per_subgroup && options.force.decode_subgroups) {
      const uint32_t sg = std::max<uint32_t>(caps.subgroup_size, 1);
      b.workgroup = sg * options.force.decode_subgroups;
      b.rows_per_subgroup = options.force.decode_rows_per_subgroup;
      b.rows_per_workgroup = options.force.decode_rows_per_subgroup * options.force.decode_subgroups;
    }
  }
  // Prefill on GPUs: shared-memory tiles of 32 tokens x 64 rows, 256 invocations, 12 KiB of shared
  // memory (the tile constants of matmul_tiled.comp).
  using PK = MatMulOverrides::PrefillKernel;
  const bool tiled_fits = caps.max_workgroup_invocations >= 256 && caps.max_shared_memory >= 12 * 1024;
  if (!decode && (options.force.prefill_kernel == PK::kTiled ||
                  (options.force.prefill_kernel == PK::kAuto && !cpu && tiled_fits))) {
    VKG_CHECK(tiled_fits, "MatMul: the tiled kernel needs 256-invocation workgroups and 12 KiB of shared memory");
    b.tiled = true;
    b.workgroup = 256;
    b.rows_per_workgroup = 64;
    b.tokens = 32;
  }
  return b;
}

}  // namespace

// The pipeline of a product shader: bindings x, y, x texels (up_storage: the X_GELU_MUL variant's up
// vector, a storage buffer), weight data and, for the quantized types, scales.
const vk::ComputePipeline& MatMulPipeline(OpContext& ctx, shaders::ShaderId shader, bool quantized,
                                          const vk::SpecConstants& spec, bool up_storage, bool end_block) {
  using K = vk::BindingKind;
  const K x2 = up_storage ? K::kStorage : K::kTexel;
  if (end_block) {
    // 0-4 (4: the scales, or the data again for unquantized weights), then the block end's 5-11.
    const K S = K::kStorage;
    return ctx.Pipeline(shader, {S, S, x2, K::kTexel, K::kTexel, S, S, S, S, S, S, S},
                        sizeof(shaders::MatMulParams) + sizeof(shaders::EndBlockParams), spec);
  }
  const uint32_t push = sizeof(shaders::MatMulParams);
  return quantized ? ctx.Pipeline(shader, {K::kStorage, K::kStorage, x2, K::kTexel, K::kTexel}, push, spec)
                   : ctx.Pipeline(shader, {K::kStorage, K::kStorage, x2, K::kTexel}, push, spec);
}

// One dispatch per weight chunk, each writing its rows of y (matmul_chunks.h).
namespace {
// residual_norm_rows.comp's plan for a block end's row (ResidualRmsNorm's): the folded block end
// adds its row sums in that kernel's order (shaders/common/end_block.glsl).
RowPlan BlockEndRowPlan(const BlockEnd& end) {
  const bool has_next = end.w_next.slice.buffer != nullptr;
  return PlanRow(end.x.cols, {&end.x, &end.w_out, &(has_next ? end.w_next : end.w_out), &(has_next ? end.a : end.x)});
}
}  // namespace

void DispatchMatMulChunks(OpContext& ctx, const WeightMatrix& w, const vk::ComputePipeline& pipeline,
                          const MatMulDispatch& d) {
  const bool gelu_pairs = d.gelu_pairs;
  const uint32_t rows_per_workgroup = d.rows_per_workgroup;
  for (const WeightChunk& c : w.chunks) {
    shaders::MatMulParams p{};
    p.k = w.cols;
    p.row_texels = uint32_t(WeightRowBytes(w.dtype, w.cols_padded) / 16);
    p.row_scales = WeightRowScales(w.dtype, w.cols_padded);
    p.rows = gelu_pairs ? c.rows / 2 : c.rows;
    p.row_offset = c.row_begin;
    p.n = gelu_pairs ? c.rows / 2 : w.rows;
    p.m_tokens = d.m_tokens;
    const uint64_t row_groups = DivUp(p.rows, gelu_pairs ? rows_per_workgroup / 2 : rows_per_workgroup);
    const uint64_t groups = row_groups * d.token_groups;
    VKG_CHECK(groups <= uint64_t(65535) * 65535, "MatMul '", w.name, "': ", groups, " workgroups is too many");
    p.row_groups = uint32_t(row_groups);
    p.groups = uint32_t(groups);
    p.softcap = d.softcap;
    const Grid g = Grid1D(groups);
    std::array<vk::Binding, 12> bind{};  // no host allocation per dispatch
    size_t n = 0;
    for (const vk::Binding& b : d.inputs) bind[n++] = b;
    bind[n++] = vk::Binding::Texel(*c.data);
    if (IsQuantized(w.dtype)) {
      VKG_CHECK(c.scales != nullptr, "MatMul '", w.name, "': quantized chunk without scales");
      bind[n++] = vk::Binding::Texel(*c.scales);
    } else if (d.end) {
      bind[n++] = vk::Binding::Texel(*c.data);  // binding 4's stand-in (never read)
    }
    // The chunk's weights (and scales) once per token group, and x.
    const uint64_t scale_bytes = uint64_t(c.rows) * WeightScaleRowBytes(w.dtype, w.cols_padded);
    ctx.rec.SetDispatchBytes((uint64_t(c.rows) * p.row_texels * 16 + scale_bytes) * d.token_groups + d.x_bytes +
                             (d.end ? uint64_t(w.rows) * 4 * (d.end->w_next.slice.buffer ? 4 : 3) : 0));
    if (d.end) {
      VKG_CHECK(w.chunks.size() == 1 && d.column_groups == 1, "MatMul '", w.name, "': a block end needs one chunk");
      const BlockEnd& e = *d.end;
      const bool has_next = e.w_next.slice.buffer != nullptr;
      const RowPlan row = BlockEndRowPlan(e);  // residual_norm_rows.comp's, whose sum order it keeps
      bind[n++] = vk::Binding::Storage(e.x.slice);
      bind[n++] = vk::Binding::Storage(e.w_out.slice);
      bind[n++] = vk::Binding::Storage((has_next ? e.w_next : e.w_out).slice);
      bind[n++] = vk::Binding::Storage((has_next ? e.a : e.x).slice);
      bind[n++] = vk::Binding::Storage(e.counter);
      bind[n++] = vk::Binding::Storage(e.int8_out ? e.int8_out->quants : e.counter);
      bind[n++] = vk::Binding::Storage(e.int8_out ? e.int8_out->scales : e.counter);
      struct {
        shaders::MatMulParams mm;
        shaders::EndBlockParams end;
      } push{p, {w.rows, e.eps, e.scale, has_next ? 1u : 0u, e.int8_out ? 1u : 0u, row.workgroup, row.per, 0u}};
      static_assert(sizeof(push) == sizeof(shaders::MatMulParams) + sizeof(shaders::EndBlockParams));
      ctx.rec.Dispatch(pipeline, std::span<const vk::Binding>(bind.data(), n), push, g.x, g.y, 1);
      continue;
    }
    ctx.rec.Dispatch(pipeline, std::span<const vk::Binding>(bind.data(), n), p, g.x, g.y, d.column_groups);
  }
}

namespace {

// Decode kernels over M rows (batched decode): columns per workgroup (spec 3) and groups of them.
struct Columns {
  uint32_t per_group = 1, groups = 1;
};
Columns ColumnsOf(const std::string& name, uint32_t m, uint32_t k) {
  VKG_CHECK(m == 1 || k % 4 == 0, "MatMul '", name, "': batched decode rows need K % 4 == 0, K is ", k);
  Columns c;
  // Powers of two (1, 2, 4, 8): each is a pipeline to compile, and a server's decode row count
  // changes every few steps; a partial group repeats its last column.
  c.per_group = 1;
  while (c.per_group < std::min(m, kDecodeColumns)) c.per_group *= 2;
  c.groups = uint32_t(DivUp(m, c.per_group));
  return c;
}

}  // namespace

void MatMul(OpContext& ctx, const WeightMatrix& w, const Tensor& x, const Tensor& y, const MatMulOptions& options) {
  // A stack of parts in different types: one product per part, each writing its rows of y.
  VKG_CHECK(!options.int8_ready || (w.parts.empty() && (x.rows == 1 || !options.rows_as_decode)), "MatMul '", w.name,
            "': int8_ready needs one weight part and x quantized as a whole");
  for (const WeightMatrix& part : w.parts) MatMul(ctx, part, x, y, options);
  if (!w.parts.empty()) return;
  const uint32_t prefill_rows = options.force.prefill_rows;
  VKG_CHECK(x.dtype == DType::F32 && y.dtype == DType::F32, "MatMul '", w.name, "': x and y must be f32");
  VKG_CHECK(x.cols == w.cols, "MatMul '", w.name, "': x has ", x.cols, " columns, the weight [", w.rows, "][", w.cols,
            "] needs ", w.cols);
  VKG_CHECK(y.cols == w.rows, "MatMul '", w.name, "': y has ", y.cols, " columns, the weight [", w.rows, "][", w.cols,
            "] gives ", w.rows);
  VKG_CHECK(x.rows == y.rows && x.rows > 0, "MatMul '", w.name, "': x has ", x.rows, " rows and y ", y.rows);
  VKG_CHECK(!w.chunks.empty(), "MatMul '", w.name, "': weight has no chunks (not uploaded?)");
  VKG_CHECK(x.slice.size >= x.elements() * 4 && y.slice.size >= y.elements() * 4, "MatMul '", w.name,
            "': tensor slices are smaller than their shapes");

  const bool decode = x.rows == 1 || options.rows_as_decode;
  // Prefill on matrix units first where the device has them (host/ops/matmul_coopmat.h): they beat
  // the int8 tiles; the integer-dot path (host/ops/matmul_int8.h) then serves decode and prefill.
  if (!decode && MatMulCoopMat(ctx, w, x, y, options)) return;
  if (options.int8_scratch && UsesIntegerDot(ctx, w.dtype)) {
    if (options.rows_as_decode && x.rows > 1) {
      // Batched decode rows, each exactly as alone (one quantize + one int8 decode product a row).
      MatMulOptions one = options;
      one.rows_as_decode = false;
      for (uint32_t r = 0; r < x.rows; ++r) MatMul(ctx, w, RowRange(x, r, 1, x.cols), RowRange(y, r, 1, y.cols), one);
      return;
    }
    const Int8Activations xq = Int8ActivationsIn(options.int8_scratch, x.rows, x.cols);
    if (!options.int8_ready) {
      ctx.rec.ComputeToCompute();  // the previous product may still read the int8 scratch
      QuantizeActivations(ctx, x, xq);
      ctx.rec.ComputeToCompute();
    }
    MatMulInt8(ctx, w, xq, y, options);
    return;
  }

  const bool cpu = ctx.kernels == KernelFamily::kDevice ? ctx.device.caps().type == VK_PHYSICAL_DEVICE_TYPE_CPU
                                                        : ctx.kernels == KernelFamily::kCpu;
  // Chunks of one matrix share one blocking, planned for the whole matrix's rows.
  Blocking b = ChooseBlocking(ctx.device.caps(), cpu, w.dtype, w.rows, w.cols_padded, decode, options);
  if (!decode && prefill_rows && !b.tiled) {
    b.rows_per_workgroup = b.rows_per_workgroup / b.rows_per_subgroup * prefill_rows;
    b.rows_per_subgroup = prefill_rows;
  }
  const bool quantized = IsQuantized(w.dtype);
  vk::SpecConstants spec;
  spec.Set(0, b.workgroup);
  if (!b.tiled) spec.Set(1, b.rows_per_subgroup).Set(2, b.rows_per_workgroup);
  if (!decode && !b.tiled) spec.Set(3, b.tokens);
  const Columns cols = decode ? ColumnsOf(w.name, x.rows, w.cols) : Columns{};
  if (cols.per_group > 1) {
    // Batched decode: the one-column plan's rows, fewer per invocation on the rows kernel (a CPU
    // device's registers hold COLS x rows accumulators); neither changes a row's sum.
    if (b.rows_per_invocation && b.rows_per_subgroup > 4) {
      b.rows_per_subgroup = 4;
      b.rows_per_workgroup = b.workgroup * 4;
      spec.Set(1, b.rows_per_subgroup).Set(2, b.rows_per_workgroup);
    }
    spec.Set(3, cols.per_group);
  }
  const WeightKernel kernel = b.tiled                 ? WeightKernel::MatMulTiled
                              : !decode               ? WeightKernel::MatMul
                              : b.rows_per_invocation ? WeightKernel::MatVecRows
                                                      : WeightKernel::MatVec;
  const ShaderId shader = WeightShaderFor(kernel, w.dtype, "MatMul '" + w.name + "'");
  const vk::ComputePipeline& pipeline = MatMulPipeline(ctx, shader, quantized, spec);
  const vk::Binding x_texels = vk::Binding::Texel(x.slice.buffer->TexelViewOf(x.slice.offset, x.slice.size));

  DispatchMatMulChunks(ctx, w, pipeline,
                       {.inputs = {vk::Binding::Storage(x.slice), vk::Binding::Storage(y.slice), x_texels},
                        .m_tokens = x.rows,
                        .rows_per_workgroup = b.rows_per_workgroup,
                        .token_groups = decode ? 1 : DivUp(x.rows, b.tokens),
                        .softcap = options.softcap,
                        .x_bytes = x.elements() * 4,
                        .column_groups = cols.groups});
}

bool MatVecGeluPairs(OpContext& ctx, const WeightMatrix& gate_up, const Tensor& x, const Tensor& act,
                     const MatMulOptions& options) {
  const WeightMatrix& w = gate_up;
  VKG_CHECK(x.dtype == DType::F32 && act.dtype == DType::F32, "MatVecGeluPairs '", w.name, "': x and act must be f32");
  VKG_CHECK(x.rows >= 1 && act.rows == x.rows, "MatVecGeluPairs '", w.name, "': x has ", x.rows, " rows and act ",
            act.rows);
  VKG_CHECK(w.rows % 2 == 0 && x.cols == w.cols && act.cols == w.rows / 2, "MatVecGeluPairs '", w.name, "': x has ",
            x.cols, " columns and act ", act.cols, ", the [gate | up] weight is [", w.rows, "][", w.cols, "]");
  // GPU family only; the gate and up rows of an output must share a chunk: one chunk (every real
  // gate_up fits one binding on GPUs; a larger one, or gate and up in different types, takes the
  // separate gelu pass).
  if (!w.parts.empty()) return false;
  VKG_CHECK(!w.chunks.empty(), "MatVecGeluPairs '", w.name, "': weight has no chunks (not uploaded?)");
  if (!ctx.GpuKernels() || w.chunks.size() != 1) return false;
  if (options.int8_scratch && UsesIntegerDot(ctx, w.dtype)) {
    VKG_CHECK(!options.int8_ready || x.rows == 1, "MatVecGeluPairs '", w.name, "': int8_ready needs one row");
    if (x.rows > 1) {  // batched decode rows: each exactly as alone
      for (uint32_t r = 0; r < x.rows; ++r) {
        MatVecGeluPairs(ctx, w, RowRange(x, r, 1, x.cols), RowRange(act, r, 1, act.cols), options);
      }
      return true;
    }
    const Int8Activations xq = Int8ActivationsIn(options.int8_scratch, 1, x.cols);
    if (!options.int8_ready) {
      ctx.rec.ComputeToCompute();  // the previous product may still read the int8 scratch
      QuantizeActivations(ctx, x, xq);
      ctx.rec.ComputeToCompute();
    }
    MatVecInt8GeluPairs(ctx, w, xq, act, options);
    return true;
  }
  const vk::DeviceCaps& caps = ctx.device.caps();
  MatVecPlan plan = PlanMatVec(caps, true, w.dtype, w.rows / 2, w.cols_padded);    // outputs
  if (options.force.decode_rows_per_subgroup && options.force.decode_subgroups) {  // tests: every geometry
    plan.workgroup = std::max<uint32_t>(caps.subgroup_size, 1) * options.force.decode_subgroups;
    plan.rows_per_subgroup = options.force.decode_rows_per_subgroup;
    plan.rows_per_workgroup = options.force.decode_rows_per_subgroup * options.force.decode_subgroups;
  }
  const Columns cols = ColumnsOf(w.name, x.rows, w.cols);
  vk::SpecConstants spec;
  spec.Set(0, plan.workgroup).Set(1, 2 * plan.rows_per_subgroup).Set(2, 2 * plan.rows_per_workgroup);
  if (cols.per_group > 1) spec.Set(3, cols.per_group);
  const vk::ComputePipeline& pipeline = MatMulPipeline(
      ctx, WeightShaderFor(WeightKernel::MatVecGeluPairs, w.dtype, "MatVecGeluPairs"), IsQuantized(w.dtype), spec);
  const vk::Binding x_texels = vk::Binding::Texel(x.slice.buffer->TexelViewOf(x.slice.offset, x.slice.size));
  DispatchMatMulChunks(ctx, w, pipeline,
                       {.inputs = {vk::Binding::Storage(x.slice), vk::Binding::Storage(act.slice), x_texels},
                        .m_tokens = x.rows,
                        .rows_per_workgroup = 2 * plan.rows_per_workgroup,
                        .x_bytes = x.elements() * 4,
                        .gelu_pairs = true,
                        .column_groups = cols.groups});
  return true;
}

bool MatVecGeluMul(OpContext& ctx, const WeightMatrix& w, const Tensor& gate, const Tensor& up, const Tensor& y,
                   const BlockEnd* end) {
  VKG_CHECK(gate.dtype == DType::F32 && up.dtype == DType::F32 && y.dtype == DType::F32, "MatVecGeluMul '", w.name,
            "': gate, up and y must be f32");
  VKG_CHECK(gate.rows >= 1 && up.rows == gate.rows && y.rows == gate.rows, "MatVecGeluMul '", w.name,
            "': gate, up and y have ", gate.rows, ", ", up.rows, " and ", y.rows, " rows");
  VKG_CHECK(gate.cols == w.cols && up.cols == w.cols && y.cols == w.rows, "MatVecGeluMul '", w.name, "': gate/up have ",
            gate.cols, "/", up.cols, " columns and y ", y.cols, ", the weight is [", w.rows, "][", w.cols, "]");
  if (!w.parts.empty()) return false;  // a stack of types: the separate gelu pass, then MatMul
  VKG_CHECK(!w.chunks.empty(), "MatVecGeluMul '", w.name, "': weight has no chunks (not uploaded?)");
  const vk::DeviceCaps& caps = ctx.device.caps();
  const uint64_t align = std::max<uint64_t>(caps.min_storage_offset_alignment, 1);
  // GPU family only (CPU devices keep matvec_rows.comp and the separate gelu_mul pass, measured on
  // lavapipe); quads of x need K % 4 == 0; both inputs must be bindable where they lie.
  if (!ctx.GpuKernels() || w.cols % 4 != 0 || gate.slice.offset % align != 0 || up.slice.offset % align != 0)
    return false;
  const MatVecPlan plan = PlanMatVec(caps, true, w.dtype, w.rows, w.cols_padded);
  if (end && (!CanEndBlock(ctx, w, y, *end) || plan.workgroup % 8 != 0)) return false;
  const Columns cols = ColumnsOf(w.name, gate.rows, w.cols);
  vk::SpecConstants spec;
  spec.Set(0, plan.workgroup).Set(1, plan.rows_per_subgroup).Set(2, plan.rows_per_workgroup);
  if (cols.per_group > 1) spec.Set(3, cols.per_group);
  const vk::ComputePipeline& pipeline =
      MatMulPipeline(ctx,
                     WeightShaderFor(end ? WeightKernel::MatVecGeluMulEndBlock : WeightKernel::MatVecGeluMul, w.dtype,
                                     "MatVecGeluMul"),
                     IsQuantized(w.dtype), spec, /*up_storage=*/true, end != nullptr);
  DispatchMatMulChunks(
      ctx, w, pipeline,
      {.inputs = {vk::Binding::Storage(gate.slice), vk::Binding::Storage(y.slice), vk::Binding::Storage(up.slice)},
       .m_tokens = gate.rows,
       .rows_per_workgroup = plan.rows_per_workgroup,
       .x_bytes = uint64_t(w.cols) * 2 * 4 * gate.rows,
       .column_groups = cols.groups,
       .end = end});
  return true;
}

bool CanEndBlock(const OpContext& ctx, const WeightMatrix& w, const Tensor& y, const BlockEnd& end) {
  const bool has_next = end.w_next.slice.buffer != nullptr;
  const uint32_t H = w.rows;
  auto row = [&](const Tensor& t) {
    return t.dtype == DType::F32 && t.rows == 1 && t.cols == H && t.slice.offset % 16 == 0;
  };
  // The separate block end it stands for is residual_norm_rows.comp's vec4 variant (ResidualRmsNorm
  // on the GPU family): the fold keeps that kernel's sum order, so it applies only where that kernel
  // would run (a row that fits its registers).
  const RowPlan plan = BlockEndRowPlan(end);
  return ctx.GpuKernels() && w.parts.empty() && w.chunks.size() == 1 && H % 4 == 0 && row(y) && row(end.x) &&
         row(end.w_out) && (!has_next || (row(end.w_next) && row(end.a))) && end.counter.buffer != nullptr &&
         (!end.int8_out || (end.int8_out->rows == 1 && end.int8_out->cols == H)) && plan.vec4 && plan.fits();
}

bool MatVecEndBlock(OpContext& ctx, const WeightMatrix& w, const Tensor& x, const Tensor& y,
                    const MatMulOptions& options, const BlockEnd& end) {
  VKG_CHECK(x.dtype == DType::F32 && x.rows == 1 && x.cols == w.cols, "MatVecEndBlock '", w.name,
            "': x must be one f32 row of ", w.cols);
  if (!CanEndBlock(ctx, w, y, end) || options.softcap > 0.f) return false;
  VKG_CHECK(!options.int8_ready || UsesIntegerDot(ctx, w.dtype), "MatVecEndBlock '", w.name,
            "': int8_ready without the integer-dot path");
  if (options.int8_scratch && UsesIntegerDot(ctx, w.dtype)) {
    const Int8Activations xq = Int8ActivationsIn(options.int8_scratch, 1, x.cols);
    if (!MatVecInt8EndBlockApplies(ctx, w)) return false;
    if (!options.int8_ready) {
      ctx.rec.ComputeToCompute();  // the previous product may still read the int8 scratch
      QuantizeActivations(ctx, x, xq);
      ctx.rec.ComputeToCompute();
    }
    MatVecInt8EndBlock(ctx, w, xq, y, end);
    return true;
  }
  const vk::DeviceCaps& caps = ctx.device.caps();
  const MatVecPlan plan = PlanMatVec(caps, true, w.dtype, w.rows, w.cols_padded);
  if (plan.workgroup % 8 != 0) return false;
  vk::SpecConstants spec;
  spec.Set(0, plan.workgroup).Set(1, plan.rows_per_subgroup).Set(2, plan.rows_per_workgroup);
  const vk::ComputePipeline& pipeline =
      MatMulPipeline(ctx, WeightShaderFor(WeightKernel::MatVecEndBlock, w.dtype, "MatVecEndBlock '" + w.name + "'"),
                     IsQuantized(w.dtype), spec, false, true);
  const vk::Binding x_texels = vk::Binding::Texel(x.slice.buffer->TexelViewOf(x.slice.offset, x.slice.size));
  DispatchMatMulChunks(ctx, w, pipeline,
                       {.inputs = {vk::Binding::Storage(x.slice), vk::Binding::Storage(y.slice), x_texels},
                        .m_tokens = 1,
                        .rows_per_workgroup = plan.rows_per_workgroup,
                        .x_bytes = x.elements() * 4,
                        .end = &end});
  return true;
}

}  // namespace vkg
