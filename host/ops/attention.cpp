// Attention over a KV cache (layer: host/ops).
#include "host/ops/attention.h"

#include <algorithm>
#include <span>
#include <string>

#include "host/device/kv_cache.h"
#include "host/ops/matmul_coopmat.h"
#include "host/ops/plans/attention_plan.h"
#include "shaders/params/attention_params.h"
#include "vk/check.h"

namespace vkg {
namespace {

// A GPU-like description at the most compute units any plan uses: the split plans only grow with
// compute units, so scratch sized for it fits every device.
vk::DeviceCaps LargestPlannedGpu() {
  vk::DeviceCaps c;
  c.type = VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
  c.subgroup_size = c.min_subgroup_size = c.max_subgroup_size = 32;
  c.compute_units = kMaxPlannedComputeUnits;
  c.max_workgroup_invocations = 1024;
  c.max_shared_memory = 48 * 1024;
  return c;
}

// K=V layers bind one cache as both: the prefill kernels then load each tile once.
bool SameCache(const Tensor& k_cache, const Tensor& v_cache) {
  return k_cache.slice.buffer == v_cache.slice.buffer && k_cache.slice.offset == v_cache.slice.offset &&
         k_cache.slice.size == v_cache.slice.size;
}

// The tensors one Attention call reads and writes (scratch: null, or f32 room for key splits).
struct AttentionOperands {
  const Tensor& q;
  const Tensor& k_cache;
  const Tensor& v_cache;
  const Tensor& out;
  const Tensor* scratch;
  const vk::BufferSlice* last_key;  // per-query last keys (prefill), or null
};

// What every kernel choice needs to know of the device and the cache dtype.
struct AttentionLaunch {
  DType kv = DType::F16;           // the KV caches' format
  uint32_t kvb = 2;                // plans' bytes per cached value: 2 f16; 4 f32, and q8_0 / q4_0
                                   // (the tiled prefill dequantizes its tiles to f32)
  bool llvmpipe = false;           // lavapipe: its loop limit applies (CheckLoopLimit)
  uint32_t workgroup = 0;          // the CPU-family kernels' workgroup: a whole number of subgroups
  uint32_t min_subgroup_size = 0;  // the smallest subgroup the driver may pick
};

// The variant of a KV-reading kernel for the cache format: {f16, f32, q8_0, q4_0}.
shaders::ShaderId ForKv(DType kv, shaders::ShaderId f16, shaders::ShaderId f32, shaders::ShaderId q8,
                        shaders::ShaderId q4) {
  return kv == DType::F16 ? f16 : kv == DType::F32 ? f32 : kv == DType::Q8_0 ? q8 : q4;
}

// lavapipe (Mesa 22.3 gallivm) ends an outermost loop after 65535 iterations (its "loop
// limiter"), silently: one workgroup must not walk more keys than that. The per-key body has no
// loops left ([[unroll]]), so the limit is on keys; split decode stays far below it.
void CheckLoopLimit(const AttentionLaunch& launch, uint64_t keys_per_workgroup) {
  VKG_CHECK(!launch.llvmpipe || keys_per_workgroup <= 65000, "Attention: ", keys_per_workgroup,
            " keys in one workgroup exceed lavapipe's loop limit (decode: pass a scratch tensor)");
}

// The part both prefill kernels share: one dispatch of pipeline `p` over (row blocks, KV heads,
// key splits) and, with splits, attention_decode_gpu.comp -D COMBINE over the (token, head)
// partials in `scratch`.
void DispatchPrefillAndCombine(OpContext& ctx, const vk::ComputePipeline& p, const AttentionOperands& t,
                               shaders::AttentionParams params, const AttentionPrefillPlan& plan, bool kv_same,
                               uint32_t head_dim) {
  const vk::BufferSlice* last_key = t.last_key;
  params.last_key_from_buffer = last_key ? 1u : 0u;
  const Tensor &q = t.q, &k_cache = t.k_cache, &v_cache = t.v_cache, &out = t.out;
  const Tensor* scratch = t.scratch;
  const auto S = vk::BindingKind::kStorage;
  params.keys_per_split = plan.keys_per_split;
  params.n_splits = plan.splits;
  const vk::BufferSlice scratch_slice = plan.splits > 1 ? scratch->slice : out.slice;  // unused when 1 split
  // last_key: q when there is none (never read: params.last_key_from_buffer is 0).
  const vk::Binding b[] = {vk::Binding::Storage(q.slice),       vk::Binding::Storage(k_cache.slice),
                           vk::Binding::Storage(v_cache.slice), vk::Binding::Storage(out.slice),
                           vk::Binding::Storage(scratch_slice), vk::Binding::Storage(last_key ? *last_key : q.slice)};
  ctx.rec.SetDispatchBytes(kv_same ? plan.bytes_read / 2 : plan.bytes_read);
  ctx.rec.Dispatch(p, b, params, plan.row_blocks, params.n_kv_heads, plan.splits);
  if (plan.splits == 1) return;

  ctx.rec.ComputeToCompute();
  const uint32_t rows = q.rows * params.n_heads;  // the combine's "heads": one per (token, head)
  const shaders::AttentionCombineParams cparams{rows, plan.splits};
  const vk::Binding bc[] = {vk::Binding::Storage(scratch->slice), vk::Binding::Storage(out.slice)};
  ctx.rec.SetDispatchBytes(plan.ScratchFloats(q.rows, params.n_heads, head_dim) * 4);
  const auto& pc =
      ctx.Pipeline(shaders::ShaderId::AttentionDecodeGpuCombine, {S, S}, sizeof(shaders::AttentionCombineParams),
                   vk::SpecConstants().Set(0, 256u).Set(1, head_dim));
  ctx.rec.Dispatch(pc, bc, cparams, rows, uint32_t(DivUp(head_dim, kAttentionCombineSlice)));
}

// Records attention_prefill_gpu.comp for `plan` and, with splits, the combine pass over its
// (token, head) partials.
void RecordPrefillGpu(OpContext& ctx, const AttentionOperands& t, shaders::AttentionParams params,
                      const AttentionPrefillPlan& plan, DType kv, uint32_t head_dim) {
  const auto S = vk::BindingKind::kStorage;
  const bool kv_same = SameCache(t.k_cache, t.v_cache);
  using shaders::ShaderId;
  const auto& p = ctx.Pipeline(ForKv(kv, ShaderId::AttentionPrefillGpuF16, ShaderId::AttentionPrefillGpuF32,
                                     ShaderId::AttentionPrefillGpuQ8, ShaderId::AttentionPrefillGpuQ4),
                               {S, S, S, S, S, S}, sizeof(params),
                               vk::SpecConstants()
                                   .Set(0, plan.workgroup)
                                   .Set(1, head_dim)
                                   .Set(2, plan.rows)
                                   .Set(3, plan.keys_per_tile)
                                   .Set(4, kv_same ? 1u : 0u));
  DispatchPrefillAndCombine(ctx, p, t, params, plan, kv_same, head_dim);
}

// Records attention_prefill_coopmat.comp for `plan` (plan.coopmat) and, with splits, the combine pass.
void RecordPrefillCoopMat(OpContext& ctx, const AttentionOperands& t, shaders::AttentionParams params,
                          const AttentionPrefillPlan& plan, DType kv, bool emulated, uint32_t head_dim) {
  const auto S = vk::BindingKind::kStorage;
  const bool kv_same = SameCache(t.k_cache, t.v_cache);
  using shaders::ShaderId;
  ShaderId id{};
  if (emulated) {
    id = ForKv(kv, ShaderId::AttentionPrefillCoopmatEmulatedF16, ShaderId::AttentionPrefillCoopmatEmulatedF32,
               ShaderId::AttentionPrefillCoopmatEmulatedQ8, ShaderId::AttentionPrefillCoopmatEmulatedQ4);
  } else {
#if VKG_SHADERS_COOPMAT
    id = ForKv(kv, ShaderId::AttentionPrefillCoopmatF16, ShaderId::AttentionPrefillCoopmatF32,
               ShaderId::AttentionPrefillCoopmatQ8, ShaderId::AttentionPrefillCoopmatQ4);
#else
    throw vk::Error("Attention: this build's shader compiler could not build the matrix-unit kernels");
#endif
  }
  VKG_CHECK(plan.shared_bytes <= ctx.device.caps().max_shared_memory, "Attention: a ", plan.rows, "x",
            plan.keys_per_tile, " matrix-unit tile needs ", plan.shared_bytes, " bytes of shared memory");
  const auto& p = ctx.Pipeline(id, {S, S, S, S, S, S}, sizeof(params),
                               vk::SpecConstants()
                                   .Set(0, plan.workgroup)
                                   .Set(1, head_dim)
                                   .Set(2, plan.rows)
                                   .Set(3, plan.keys_per_tile)
                                   .Set(4, kv_same ? 1u : 0u)
                                   .Set(5, plan.fm)
                                   .Set(6, plan.fn)
                                   .Set(7, plan.fk)
                                   .Set(8, plan.subgroups)
                                   .Set(9, plan.ksplit)
                                   .Set(10, plan.c_floats));
  DispatchPrefillAndCombine(ctx, p, t, params, plan, kv_same, head_dim);
}

vk::CoopMatShape Unit(uint32_t m, uint32_t n, uint32_t k) {
  vk::CoopMatShape u;
  u.m = m;
  u.n = n;
  u.k = k;
  return u;
}

// The emulated fragments model 16x16x16 units (the shape every vendor with matrix units lists),
// or 8x8x8 where no 16x16 tile fits the device's shared memory (head 512 on lavapipe's 32 KiB):
// the same kernel code at other specialization constants, as devices with smaller units get.
AttentionPrefillPlan PlanEmulated(const vk::DeviceCaps& caps, const AttentionShape& s, uint32_t T, uint32_t kvb,
                                  bool with_scratch) {
  AttentionPrefillPlan p =
      PlanAttentionPrefillCoopMat(caps, Unit(16, 16, 16), kCoopMatEmulatedLanes, s, T, kvb, with_scratch);
  if (!p.coopmat) p = PlanAttentionPrefillCoopMat(caps, Unit(8, 8, 8), kCoopMatEmulatedLanes, s, T, kvb, with_scratch);
  return p;
}

}  // namespace

AttentionPrefillPlan PlanAttentionPrefillFor(const OpContext& ctx, const AttentionShape& s, uint32_t T, uint32_t kvb,
                                             bool with_scratch) {
  const vk::DeviceCaps& caps = ctx.device.caps();
  const CoopMatPath path = CoopMatPrefillPath(ctx);
  if (path != CoopMatPath::kNone) {
    const AttentionPrefillPlan cm =
        path == CoopMatPath::kEmulated
            ? PlanEmulated(caps, s, T, kvb, with_scratch)
            : PlanAttentionPrefillCoopMat(caps, caps.coopmat_f16, caps.subgroup_size, s, T, kvb, with_scratch);
    if (cm.coopmat) return cm;
  }
  return PlanAttentionPrefill(caps, ctx.GpuKernels(), s, T, kvb, with_scratch);
}

uint64_t AttentionScratchFloats(const AttentionShape& shape, uint32_t n_tokens) {
  if (n_tokens > 1) {
    // Only the GPU prefill kernel splits; plan it for both cache dtypes (their tiles differ).
    uint64_t n = 0;
    // The matrix-unit kernel's tiles differ again: planned at the 16x16x16 unit on 32-lane
    // subgroups, and as the emulated fragments plan it, at 32 and 48 KiB of shared memory (other
    // units and shared sizes may find the scratch too small and then run one split).
    for (uint32_t kvb : {2u, 4u}) {
      n = std::max(n, PlanAttentionPrefill(LargestPlannedGpu(), true, shape, n_tokens, kvb)
                          .ScratchFloats(n_tokens, shape.n_heads, shape.head_dim));
      for (uint32_t shared_kib : {32u, 48u}) {
        vk::DeviceCaps c = LargestPlannedGpu();
        c.max_shared_memory = shared_kib * 1024;
        n = std::max(n, PlanAttentionPrefillCoopMat(c, Unit(16, 16, 16), 32, shape, n_tokens, kvb)
                            .ScratchFloats(n_tokens, shape.n_heads, shape.head_dim));
        n = std::max(
            n, PlanEmulated(c, shape, n_tokens, kvb, true).ScratchFloats(n_tokens, shape.n_heads, shape.head_dim));
      }
    }
    return n;
  }
  // The CPU plan depends on nothing of the device but its subgroup size, which only moves rows.
  vk::DeviceCaps cpu;
  cpu.subgroup_size = cpu.min_subgroup_size = cpu.max_subgroup_size = 8;
  const uint64_t a = PlanAttentionDecode(cpu, false, shape, 2).ScratchFloats(shape.n_heads, shape.head_dim);
  const uint64_t b =
      PlanAttentionDecode(LargestPlannedGpu(), true, shape, 2).ScratchFloats(shape.n_heads, shape.head_dim);
  return std::max(a, b);
}

namespace {

// The shape checks of Attention; returns the keys the first query token needs (AttentionFirstKey ..
// start_pos, plus the chunk's other T - 1 positions), which the ring rule bounds.
uint64_t CheckAttentionShapes(const OpContext& ctx, const AttentionOperands& t, const AttentionShape& s) {
  const Tensor &q = t.q, &k_cache = t.k_cache, &v_cache = t.v_cache, &out = t.out;
  const uint32_t T = q.rows;
  VKG_CHECK(T >= 1, "Attention: no query tokens");
  VKG_CHECK(!s.position || T == 1, "Attention: a position buffer is for decode (one query token)");
  VKG_CHECK(!s.last_key || (T > 1 && s.last_key->size >= uint64_t(T) * 4),
            "Attention: last_key needs T > 1 and [T] int32 values");
  VKG_CHECK(s.n_kv_heads >= 1 && s.n_heads % s.n_kv_heads == 0, "Attention: ", s.n_heads,
            " heads are not a multiple of ", s.n_kv_heads, " KV heads");
  VKG_CHECK(s.head_dim >= 2 && s.head_dim <= 512 && s.head_dim % 2 == 0, "Attention: head_dim ", s.head_dim,
            " must be even and <= 512");
  VKG_CHECK(q.dtype == DType::F32 && out.dtype == DType::F32, "Attention: q and out must be f32");
  VKG_CHECK(q.cols == s.n_heads * s.head_dim && out.rows == T && out.cols == q.cols,
            "Attention: q/out must be [T][n_heads * head_dim]");
  VKG_CHECK(k_cache.dtype == v_cache.dtype && IsKvCacheDType(k_cache.dtype),
            "Attention: K/V caches must be of one format: f32, f16, q8_0 or q4_0");
  VKG_CHECK(!IsQuantized(k_cache.dtype) || s.head_dim % 16 == 0, "Attention: a ", DTypeName(k_cache.dtype),
            " cache needs head_dim a multiple of 16; got ", s.head_dim);
  VKG_CHECK(k_cache.rows == s.cache_len && v_cache.rows == s.cache_len && k_cache.cols == s.n_kv_heads * s.head_dim &&
                v_cache.cols == k_cache.cols,
            "Attention: caches must be [cache_len][n_kv_heads * head_dim]");
  // Ring rule: the keys of the first query, AttentionFirstKey .. start_pos, must still be in the cache after
  // the whole chunk was written, i.e. no two needed positions may share a slot.
  const uint64_t needed = uint64_t(s.start_pos) + T - AttentionFirstKey(s);
  VKG_CHECK(s.cache_len >= needed, "Attention: cache_len ", s.cache_len, " < ", needed,
            " (a sliding layer needs cache_len >= window + T - 1; a full layer start_pos + T)");
  VKG_CHECK(k_cache.slice.size <= ctx.device.caps().max_storage_buffer_range, "Attention: KV cache of ",
            k_cache.slice.size, " bytes exceeds maxStorageBufferRange");
  return needed;
}

// T > 1 query tokens: the matrix-unit kernel (hardware or emulated), the GPU family's tiled kernel,
// or the CPU family's row kernel, as PlanAttentionPrefillFor chooses (one split when `scratch` is
// too small for its plan).
void RecordPrefill(OpContext& ctx, const AttentionOperands& t, const AttentionShape& s, shaders::AttentionParams params,
                   const AttentionLaunch& launch, uint64_t needed) {
  const vk::DeviceCaps& caps = ctx.device.caps();
  const uint32_t T = t.q.rows;
  const uint32_t kvb = launch.kvb;
  const auto S = vk::BindingKind::kStorage;
  using shaders::ShaderId;
  const bool want_scratch = t.scratch && t.scratch->dtype == DType::F32;
  AttentionPrefillPlan plan = PlanAttentionPrefillFor(ctx, s, T, kvb, want_scratch);
  if (plan.splits > 1 && t.scratch->elements() < plan.ScratchFloats(T, s.n_heads, s.head_dim))
    plan = PlanAttentionPrefillFor(ctx, s, T, kvb, false);  // too small: one split
  if (plan.coopmat) {
    // lavapipe's loop limit binds the emulated fragments too (their multiply-adds are loops).
    VKG_CHECK(!launch.llvmpipe || plan.loop_iterations <= kLavapipeLoopLimit,
              "Attention: the matrix-unit prefill kernel ", "would run ", plan.loop_iterations,
              " loop iterations in one workgroup, past lavapipe's loop limit ",
              "(pass a scratch tensor so that the keys split)");
    RecordPrefillCoopMat(ctx, t, params, plan, launch.kv, CoopMatPrefillPath(ctx) == CoopMatPath::kEmulated,
                         s.head_dim);
    return;
  }
  // lavapipe's loop limit, for the GPU kernel forced there: its loops are many per key.
  if (plan.gpu_kernel && launch.llvmpipe && plan.loop_iterations > kLavapipeLoopLimit)
    plan = PlanAttentionPrefill(caps, false, s, T, kvb, false);
  if (plan.gpu_kernel) {
    RecordPrefillGpu(ctx, t, params, plan, launch.kv, s.head_dim);
    return;
  }
  const auto& p = ctx.Pipeline(ForKv(launch.kv, ShaderId::AttentionPrefillF16, ShaderId::AttentionPrefillF32,
                                     ShaderId::AttentionPrefillQ8, ShaderId::AttentionPrefillQ4),
                               {S, S, S, S, S}, sizeof(params),
                               vk::SpecConstants()
                                   .Set(0, launch.workgroup)
                                   .Set(1, s.head_dim)
                                   .Set(2, launch.min_subgroup_size)
                                   .Set(3, plan.rows));
  params.n_splits = 1;
  params.last_key_from_buffer = s.last_key ? 1u : 0u;
  CheckLoopLimit(launch, needed);
  const vk::Binding b[] = {vk::Binding::Storage(t.q.slice), vk::Binding::Storage(t.k_cache.slice),
                           vk::Binding::Storage(t.v_cache.slice), vk::Binding::Storage(t.out.slice),
                           vk::Binding::Storage(s.last_key ? *s.last_key : t.q.slice)};  // q: never read
  ctx.rec.SetDispatchBytes(plan.bytes_read);
  ctx.rec.Dispatch(p, b, params, plan.row_blocks, s.n_kv_heads);
}

// With key splits: the combine pass over the (head) partials in scratch, into `out`.
void RecordDecodeCombine(OpContext& ctx, const AttentionOperands& t, const AttentionShape& s,
                         const AttentionDecodePlan& plan) {
  const auto S = vk::BindingKind::kStorage;
  ctx.rec.ComputeToCompute();
  const shaders::AttentionCombineParams cparams{s.n_heads, plan.splits};
  const vk::Binding bc[] = {vk::Binding::Storage(t.scratch->slice), vk::Binding::Storage(t.out.slice)};
  ctx.rec.SetDispatchBytes(plan.ScratchFloats(s.n_heads, s.head_dim) * 4);
  if (plan.gpu_kernel) {
    const auto& pc =
        ctx.Pipeline(shaders::ShaderId::AttentionDecodeGpuCombine, {S, S}, sizeof(shaders::AttentionCombineParams),
                     vk::SpecConstants().Set(0, plan.combine_workgroup).Set(1, s.head_dim));
    ctx.rec.Dispatch(pc, bc, cparams, s.n_heads, uint32_t(DivUp(s.head_dim, kAttentionCombineSlice)));
  } else {
    const auto& pc =
        ctx.Pipeline(shaders::ShaderId::AttentionDecodeCombine, {S, S}, sizeof(shaders::AttentionCombineParams),
                     vk::SpecConstants().Set(0, plan.combine_workgroup).Set(1, s.head_dim));
    ctx.rec.Dispatch(pc, bc, cparams, s.n_heads);
  }
}

// One query token: the GPU or CPU family's decode kernel over (row blocks, KV heads, key splits),
// then, with splits, the combine pass.
void RecordDecode(OpContext& ctx, const AttentionOperands& t, const AttentionShape& s, shaders::AttentionParams params,
                  const AttentionLaunch& launch) {
  const vk::DeviceCaps& caps = ctx.device.caps();
  const uint32_t kvb = launch.kv == DType::F32 ? 4 : launch.kv == DType::F16 ? 2 : 1;
  const auto S = vk::BindingKind::kStorage;
  using shaders::ShaderId;
  const bool want_scratch = t.scratch && t.scratch->dtype == DType::F32;
  AttentionDecodePlan plan = PlanAttentionDecode(caps, ctx.GpuKernels(), s, kvb, want_scratch);
  if (plan.splits > 1 && t.scratch->elements() < plan.ScratchFloats(s.n_heads, s.head_dim))
    plan = PlanAttentionDecode(caps, ctx.GpuKernels(), s, kvb, false);  // too small: one split
  CheckLoopLimit(launch, plan.keys_per_split);
  params.keys_per_split = plan.keys_per_split;
  params.n_splits = plan.splits;
  vk::SpecConstants spec;
  shaders::ShaderId id;
  // The last split combines (no pass 2) where counters are given: at most n_heads of them used.
  const bool combine_last = plan.gpu_kernel && plan.splits > 1 && s.split_counters &&
                            s.split_counters->size >= uint64_t(plan.row_blocks) * s.n_kv_heads * 4;
  if (combine_last) {
    id = ForKv(launch.kv, ShaderId::AttentionDecodeGpuF16CombineLast, ShaderId::AttentionDecodeGpuF32CombineLast,
               ShaderId::AttentionDecodeGpuQ8CombineLast, ShaderId::AttentionDecodeGpuQ4CombineLast);
    spec.Set(0, plan.workgroup).Set(1, s.head_dim).Set(2, plan.rows).Set(3, plan.kgroups);
  } else if (plan.gpu_kernel) {
    id = ForKv(launch.kv, ShaderId::AttentionDecodeGpuF16, ShaderId::AttentionDecodeGpuF32,
               ShaderId::AttentionDecodeGpuQ8, ShaderId::AttentionDecodeGpuQ4);
    spec.Set(0, plan.workgroup).Set(1, s.head_dim).Set(2, plan.rows).Set(3, plan.kgroups);
  } else {
    id = ForKv(launch.kv, ShaderId::AttentionDecodeF16, ShaderId::AttentionDecodeF32, ShaderId::AttentionDecodeQ8,
               ShaderId::AttentionDecodeQ4);
    spec.Set(0, launch.workgroup).Set(1, s.head_dim).Set(2, launch.min_subgroup_size).Set(3, plan.rows);
  }
  const vk::BufferSlice scratch_slice = plan.splits > 1 ? t.scratch->slice : t.out.slice;  // unused when 1 split
  const vk::Binding b[] = {vk::Binding::Storage(t.q.slice),
                           vk::Binding::Storage(t.k_cache.slice),
                           vk::Binding::Storage(t.v_cache.slice),
                           vk::Binding::Storage(t.out.slice),
                           vk::Binding::Storage(scratch_slice),
                           vk::Binding::Storage(s.position ? *s.position : t.q.slice),  // q: never read
                           vk::Binding::Storage(combine_last ? *s.split_counters : t.q.slice)};
  if (combine_last) {
    // Pass 1's bytes plus the partials its last splits read back.
    ctx.rec.SetDispatchBytes(plan.bytes_read + plan.ScratchFloats(s.n_heads, s.head_dim) * 4);
    const auto& p = ctx.Pipeline(id, {S, S, S, S, S, S, S}, sizeof(params), spec);
    ctx.rec.Dispatch(p, b, params, plan.row_blocks, s.n_kv_heads, plan.splits);
    return;
  }
  const auto& p = ctx.Pipeline(id, {S, S, S, S, S, S}, sizeof(params), spec);
  ctx.rec.SetDispatchBytes(plan.bytes_read);
  ctx.rec.Dispatch(p, std::span<const vk::Binding>(b, 6), params, plan.row_blocks, s.n_kv_heads, plan.splits);
  if (plan.splits > 1) RecordDecodeCombine(ctx, t, s, plan);
}

}  // namespace

void Attention(OpContext& ctx, const Tensor& q, const Tensor& k_cache, const Tensor& v_cache, const Tensor& out,
               const AttentionShape& s, const Tensor* scratch) {
  const AttentionOperands t{q, k_cache, v_cache, out, scratch, s.last_key};
  const uint64_t needed = CheckAttentionShapes(ctx, t, s);
  const vk::DeviceCaps& caps = ctx.device.caps();
  const uint32_t T = q.rows;
  const uint32_t group = s.n_heads / s.n_kv_heads;
  AttentionLaunch launch;
  launch.kv = k_cache.dtype;
  launch.kvb = k_cache.dtype == DType::F16 ? 2 : 4;
  launch.llvmpipe = caps.driver_name.find("llvmpipe") != std::string::npos;
  // A workgroup is a whole number of subgroups whatever size the driver picks.
  launch.min_subgroup_size = std::max(1u, caps.min_subgroup_size ? caps.min_subgroup_size : caps.subgroup_size);
  launch.workgroup =
      std::max(launch.min_subgroup_size, caps.max_subgroup_size ? caps.max_subgroup_size : caps.subgroup_size);

  shaders::AttentionParams params{};
  params.n_rows = T * group;
  params.group = group;
  params.n_heads = s.n_heads;
  params.n_kv_heads = s.n_kv_heads;
  params.start_pos = s.start_pos;
  params.cache_len = s.cache_len;
  params.window = s.window;
  params.scale = s.scale;
  params.pos_from_buffer = s.position ? 1u : 0u;
  if (T > 1) {
    RecordPrefill(ctx, t, s, params, launch, needed);
  } else {
    RecordDecode(ctx, t, s, params, launch);
  }
}

}  // namespace vkg
