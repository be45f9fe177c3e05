// Decode and prefill attention launch plans (layer: host/ops).
#include "host/ops/plans/attention_plan.h"

#include <algorithm>

#include "host/ops/op_context.h"

namespace vkg {
namespace {

constexpr uint32_t kKeyRound = 8;  // CPU kernel: keys per split are rounded up to a multiple of this

void PlanCpu(const vk::DeviceCaps& caps, const AttentionShape& s, uint32_t span, bool with_scratch,
             AttentionDecodePlan& plan) {
  const uint32_t sg_min = std::max(1u, caps.min_subgroup_size ? caps.min_subgroup_size : caps.subgroup_size);
  const uint32_t sg_max = std::max(sg_min, caps.max_subgroup_size ? caps.max_subgroup_size : caps.subgroup_size);
  const uint32_t group = s.n_heads / s.n_kv_heads;
  plan.workgroup = sg_max;  // one subgroup (a workgroup is a whole number of them at any size)
  plan.rows = AttentionSubgroupRows(s.head_dim, sg_min, group);
  plan.keys_per_split = span;
  // Splits of at least kAttentionKeysPerSplit keys, at most kAttentionMaxSplits of them.
  const uint32_t want = std::min<uint32_t>(kAttentionMaxSplits, uint32_t(DivUp(span, kAttentionKeysPerSplit)));
  if (with_scratch && want > 1) {
    plan.keys_per_split = uint32_t(DivUp(DivUp(span, want), kKeyRound) * kKeyRound);
    plan.splits = uint32_t(DivUp(span, plan.keys_per_split));
  }
  plan.serial_keys = plan.keys_per_split;  // one subgroup walks every key of its split
}

void PlanGpu(const vk::DeviceCaps& caps, const AttentionShape& s, uint32_t span, bool with_scratch,
             AttentionDecodePlan& plan) {
  const uint32_t group = s.n_heads / s.n_kv_heads;
  const uint32_t sg = std::max(1u, caps.max_subgroup_size ? caps.max_subgroup_size : caps.subgroup_size);
  plan.gpu_kernel = true;
  plan.workgroup = kAttentionGpuWorkgroup;
  plan.rows = std::min(group, kAttentionGpuMaxRows);
  plan.row_blocks = uint32_t(DivUp(group, plan.rows));
  // Key groups of the P.V step: the invocations left once every 8-value chunk of a row has one, at
  // most kAttentionGpuMaxKeyGroups. The kernel's final sum of the groups' partial outputs takes one
  // barrier per group: the released heads (256, 512) give 8 and 4 groups and are unchanged, while a
  // small test head (16) would otherwise pay 128 barriers per workgroup (32 with keys, the rest
  // empty), each of which on a CPU driver saves and restores every invocation's state.
  plan.kgroups = std::clamp(kAttentionGpuWorkgroup / (s.head_dim / 8), 1u, kAttentionGpuMaxKeyGroups);
  plan.keys_per_split = span;
  if (with_scratch) {
    // Enough workgroups for every compute unit, in whole tiles, at most 256 keys each (bounds the
    // serial work of an invocation) and at most kAttentionGpuMaxSplits splits.
    const uint64_t cus = std::min(caps.ComputeUnits(), kMaxPlannedComputeUnits);
    const uint64_t want = DivUp(cus * kWorkgroupsPerComputeUnit, uint64_t(plan.row_blocks) * s.n_kv_heads);
    uint64_t kps = span / want / kAttentionGpuTile * kAttentionGpuTile;  // rounded down: >= want splits
    kps = std::clamp<uint64_t>(kps, kAttentionGpuTile, kAttentionGpuMaxKeysPerSplit);
    kps = std::max<uint64_t>(kps, DivUp(DivUp(span, kAttentionGpuMaxSplits), kAttentionGpuTile) * kAttentionGpuTile);
    plan.keys_per_split = uint32_t(std::min<uint64_t>(kps, span));
    plan.splits = uint32_t(DivUp(span, plan.keys_per_split));
  }
  // Per tile an invocation loads K rows of ceil(TILE / subgroups) keys (scores) and V rows of
  // ceil(TILE / kgroups) keys (P.V); the larger over the split's tiles is its serial work.
  const uint32_t subgroups = std::max(1u, kAttentionGpuWorkgroup / sg);
  const uint32_t tiles = uint32_t(DivUp(plan.keys_per_split, kAttentionGpuTile));
  const uint32_t per_tile =
      uint32_t(std::max(DivUp(kAttentionGpuTile, subgroups), DivUp(kAttentionGpuTile, plan.kgroups)));
  plan.serial_keys = tiles * per_tile;
}

// Keys [lo, hi) that row block b (rows b * rows ..) of a T-token chunk sees. With per-query last
// keys (known only on the device) the bound is the chunk's end: the kernels clamp last keys to it.
void BlockKeys(const AttentionShape& s, uint32_t n_tokens, uint32_t rows, uint32_t b, uint32_t& lo, uint32_t& hi) {
  const uint32_t group = s.n_heads / s.n_kv_heads;
  const uint32_t n_rows = n_tokens * group;
  const uint32_t last_row = std::min(n_rows, (b + 1) * rows) - 1;
  const uint32_t pos_lo = s.start_pos + b * rows / group, pos_hi = s.start_pos + last_row / group;
  lo = s.window > 0 && pos_lo + 1 > s.window ? pos_lo + 1 - s.window : 0;
  hi = s.last_key ? s.start_pos + n_tokens : pos_hi + 1;
}

// Row blocks and key splits of a flash plan with plan.rows x plan.keys_per_tile tiles (both GPU
// prefill kernels): splits when row blocks x KV heads < kWorkgroupsPerComputeUnit x compute units.
void PlanPrefillSplits(const vk::DeviceCaps& caps, const AttentionShape& s, uint32_t T, bool with_scratch,
                       AttentionPrefillPlan& plan) {
  const uint32_t group = s.n_heads / s.n_kv_heads;
  const uint32_t n_rows = T * group;
  plan.row_blocks = uint32_t(DivUp(n_rows, plan.rows));
  // The widest key range of a row block (one split of keys_per_split keys must cover it).
  uint32_t widest = 0;
  for (uint32_t b = 0; b < plan.row_blocks; ++b) {
    uint32_t lo, hi;
    BlockKeys(s, T, plan.rows, b, lo, hi);
    widest = std::max(widest, hi - lo);
  }
  const uint32_t bc = plan.keys_per_tile;
  plan.keys_per_split = uint32_t(DivUp(widest, bc) * bc);
  const uint64_t cus = std::min(caps.ComputeUnits(), kMaxPlannedComputeUnits);
  const uint64_t blocks = uint64_t(plan.row_blocks) * s.n_kv_heads;
  const uint64_t target = cus * kWorkgroupsPerComputeUnit;
  // The combine pass runs one workgroup row per (token, head): at most 65535 of them.
  if (with_scratch && blocks < target && uint64_t(T) * s.n_heads <= 65535) {
    // Keys per split rounded down to whole tiles (so that splits >= want), at least the minimum
    // (rounded up to a tile), and few enough splits for the combine pass.
    const uint64_t want = DivUp(target, blocks);
    uint64_t kps = widest / want / bc * bc;
    kps = std::max<uint64_t>(kps, DivUp(kAttentionPrefillMinKeysPerSplit, bc) * bc);
    kps = std::max<uint64_t>(kps, DivUp(DivUp(widest, kAttentionGpuMaxSplits), bc) * bc);
    if (kps < plan.keys_per_split) {
      plan.keys_per_split = uint32_t(kps);
      plan.splits = uint32_t(DivUp(widest, kps));
    }
  }
  plan.serial_keys = std::min(plan.keys_per_split, widest);
  if (plan.splits > 1) plan.combine_workgroups = uint64_t(T) * s.n_heads * DivUp(s.head_dim, kAttentionCombineSlice);
}

void PlanPrefillGpu(const vk::DeviceCaps& caps, const AttentionShape& s, uint32_t T, uint32_t kvb, bool with_scratch,
                    AttentionPrefillPlan& plan) {
  plan.gpu_kernel = true;
  plan.workgroup = kAttentionPrefillGpuWorkgroup;
  PlanPrefillSplits(caps, s, T, with_scratch, plan);
  const uint32_t bc = plan.keys_per_tile;
  // Per tile: K and V loads, scores x head chunks, the softmax rows' key loops, the P.V key loop.
  const uint32_t wg = plan.workgroup, c8 = s.head_dim / 8, lpr = kvb == 4 ? 2 * c8 : c8;
  const uint32_t sg = std::max(1u, caps.min_subgroup_size ? caps.min_subgroup_size : caps.subgroup_size);
  const uint64_t per_tile = 2 * DivUp(bc * lpr, wg) + DivUp(plan.rows * bc, wg) * (c8 + 1) +
                            DivUp(plan.rows, std::max(1u, wg / sg)) * (2 * DivUp(bc, sg) + 2) + bc + 4;
  plan.loop_iterations = DivUp(plan.serial_keys, bc) * per_tile + 2 * DivUp(plan.rows * (s.head_dim / 4 + 1), wg);
  plan.shared_bytes = AttentionPrefillGpuSharedBytes(s.head_dim, kvb, plan.rows, bc);
}

// Workgroups and bytes read (every row block reads the K and V rows of the keys it sees once).
void FinishPrefillPlan(const AttentionShape& s, uint32_t T, uint32_t kvb, AttentionPrefillPlan& plan) {
  plan.workgroups = uint64_t(plan.row_blocks) * s.n_kv_heads * plan.splits;
  uint64_t keys = 0;
  for (uint32_t b = 0; b < plan.row_blocks; ++b) {
    uint32_t lo, hi;
    BlockKeys(s, T, plan.rows, b, lo, hi);
    keys += hi - lo;
  }
  plan.bytes_read = keys * s.n_kv_heads * s.head_dim * kvb * 2 + uint64_t(T) * s.n_heads * s.head_dim * 4;
}

}  // namespace

uint32_t AttentionPrefillGpuSharedBytes(uint32_t head_dim, uint32_t kvb, uint32_t rows, uint32_t keys_per_tile) {
  const uint32_t q = rows * (head_dim + 4) * 4;                 // f32, one vec4 of padding per row
  const uint32_t tile = keys_per_tile * (head_dim * kvb + 16);  // K or V rows, 16 bytes of padding
  const uint32_t scores = rows * keys_per_tile * 4;
  return q + tile + scores + rows * 3 * 4;  // + m, l, rescale factor per row
}

AttentionPrefillPlan PlanAttentionPrefill(const vk::DeviceCaps& caps, bool gpu_family, const AttentionShape& s,
                                          uint32_t T, uint32_t kvb, bool with_scratch) {
  AttentionPrefillPlan plan;
  const uint32_t group = s.n_heads / s.n_kv_heads;
  const uint32_t n_rows = T * group;
  bool gpu = gpu_family && s.head_dim % 8 == 0 && s.head_dim / 8 <= kAttentionPrefillGpuWorkgroup &&
             caps.max_workgroup_invocations >= kAttentionPrefillGpuWorkgroup;
  if (gpu) {
    gpu = false;
    static constexpr uint32_t kTiles[][2] = {{32, 32}, {16, 32}, {16, 16}, {8, 16}, {8, 8}, {4, 8}};
    for (const auto& t : kTiles) {
      if (AttentionPrefillGpuSharedBytes(s.head_dim, kvb, t[0], t[1]) > caps.max_shared_memory) continue;
      plan.rows = t[0];
      plan.keys_per_tile = t[1];
      gpu = DivUp(n_rows, t[0]) <= 65535;  // workgroup count x
      break;
    }
  }
  if (gpu) {
    PlanPrefillGpu(caps, s, T, kvb, with_scratch, plan);
  } else {
    plan = AttentionPrefillPlan{};
    const uint32_t sg_min = std::max(1u, caps.min_subgroup_size ? caps.min_subgroup_size : caps.subgroup_size);
    plan.workgroup = std::max(sg_min, caps.max_subgroup_size ? caps.max_subgroup_size : caps.subgroup_size);
    plan.rows = AttentionSubgroupRows(s.head_dim, sg_min, n_rows);
    plan.row_blocks = uint32_t(DivUp(n_rows, plan.rows));
    plan.serial_keys = s.start_pos + T - AttentionFirstKey(s);
    plan.keys_per_split = plan.serial_keys;
  }
  FinishPrefillPlan(s, T, kvb, plan);
  return plan;
}

uint32_t AttentionPrefillCoopMatSharedBytes(uint32_t head_dim, uint32_t rows, uint32_t keys_per_tile,
                                            uint32_t c_floats) {
  const uint32_t a = rows * (head_dim + 8) + rows * (keys_per_tile + 8);  // Q, P (f16, padded rows)
  const uint32_t b = keys_per_tile * (head_dim + 8);                      // K / V tile (f16)
  return 2 * (a + b) + 4 * c_floats + rows * 3 * 4 + 4;
}

AttentionPrefillPlan PlanAttentionPrefillCoopMat(const vk::DeviceCaps& caps, const vk::CoopMatShape& unit,
                                                 uint32_t lanes, const AttentionShape& s, uint32_t T, uint32_t kvb,
                                                 bool with_scratch) {
  AttentionPrefillPlan plan;
  const uint32_t fm = unit.m, fn = unit.n, fk = unit.k, hd = s.head_dim, sgs = kAttentionCoopMatSubgroups;
  const uint32_t group = s.n_heads / s.n_kv_heads;
  if (!fm || !fn || !fk || hd % fn || hd % fk || lanes == 0 || sgs * lanes > caps.max_workgroup_invocations)
    return plan;
  static constexpr uint32_t kTiles[][2] = {{64, 64}, {64, 32}, {32, 64}, {32, 32}, {64, 16}, {32, 16},
                                           {16, 32}, {16, 16}, {16, 8},  {8, 16},  {8, 8}};
  for (const auto& t : kTiles) {
    const uint32_t br = t[0], bc = t[1];
    if (br % fm || bc % fn || bc % fk) continue;
    const uint32_t s_frags = (br / fm) * (bc / fn);
    const uint32_t ksplit = s_frags >= sgs ? 1 : sgs / s_frags;
    if (s_frags * ksplit % sgs || (hd / ksplit) % fk || hd % ksplit) continue;  // S items even over subgroups
    if ((br / fm) * (hd / fn) % sgs) continue;                                  // O fragments even
    const uint32_t c_floats = std::max(ksplit * br * bc, sgs * fm * fn);
    if (AttentionPrefillCoopMatSharedBytes(hd, br, bc, c_floats) > caps.max_shared_memory) continue;
    if (DivUp(uint64_t(T) * group, br) > 65535) continue;  // workgroup count x
    plan.gpu_kernel = plan.coopmat = true;
    plan.rows = br;
    plan.keys_per_tile = bc;
    plan.fm = fm;
    plan.fn = fn;
    plan.fk = fk;
    plan.lanes = lanes;
    plan.subgroups = sgs;
    plan.ksplit = ksplit;
    plan.c_floats = c_floats;
    plan.workgroup = sgs * lanes;
    plan.shared_bytes = AttentionPrefillCoopMatSharedBytes(hd, br, bc, c_floats);
    break;
  }
  if (!plan.coopmat) return plan;
  PlanPrefillSplits(caps, s, T, with_scratch, plan);
  // Loop iterations of one workgroup (lavapipe's limit, for the emulated fragments there): per
  // tile the K/V loads, the S and O unit steps (an emulated multiply-add loops over FM x FN / lanes
  // elements; its FK terms are unrolled: COOPMAT_EMU_K_LOOP), the softmax rows and the output.
  const uint32_t wg = plan.workgroup, bc = plan.keys_per_tile, br = plan.rows;
  const uint32_t sg = std::max(1u, caps.min_subgroup_size ? caps.min_subgroup_size : caps.subgroup_size);
  const uint64_t mul_add = uint64_t(fm) * fn / lanes + 1;
  const uint64_t s_steps = uint64_t(br / fm) * (bc / fn) * (hd / fk) / sgs;
  const uint64_t o_frags = uint64_t(br / fm) * (hd / fn) / sgs;
  const uint64_t per_tile = 2 * DivUp(uint64_t(bc) * hd / (kvb == 4 ? 4 : 8), wg) +
                            (s_steps + o_frags * (bc / fk)) * mul_add +
                            DivUp(br, std::max(1u, wg / sg)) * (2 * DivUp(bc, sg) * (plan.ksplit + 1) + 2);
  plan.loop_iterations = DivUp(plan.serial_keys, bc) * per_tile + o_frags * (2 * mul_add + DivUp(fm * fn, lanes)) +
                         DivUp(uint64_t(br) * hd / 4, wg);
  FinishPrefillPlan(s, T, kvb, plan);
  return plan;
}

uint32_t AttentionFirstKey(const AttentionShape& s) {
  return s.window > 0 && s.start_pos + 1 > s.window ? s.start_pos + 1 - s.window : 0;
}

uint32_t AttentionSubgroupRows(uint32_t head_dim, uint32_t sg_min, uint32_t limit) {
  const uint32_t pairs_per_lane = uint32_t(DivUp(head_dim / 2, sg_min));
  return std::min(std::clamp(64u / pairs_per_lane, 1u, 8u), std::max(1u, limit));
}

AttentionDecodePlan PlanAttentionDecode(const vk::DeviceCaps& caps, bool gpu_family, const AttentionShape& s,
                                        uint32_t kv_bytes_per_value, bool with_scratch) {
  AttentionDecodePlan plan;
  const uint32_t span = s.start_pos + 1 - AttentionFirstKey(s);
  const bool gpu_fits = s.head_dim % 8 == 0 && caps.max_workgroup_invocations >= kAttentionGpuWorkgroup &&
                        caps.max_shared_memory >= 20 * 1024;
  if (gpu_family && gpu_fits) {
    PlanGpu(caps, s, span, with_scratch, plan);
  } else {
    PlanCpu(caps, s, span, with_scratch, plan);
    plan.row_blocks = uint32_t(DivUp(s.n_heads / s.n_kv_heads, plan.rows));
  }
  plan.workgroups = uint64_t(plan.row_blocks) * s.n_kv_heads * plan.splits;
  if (plan.splits > 1) {
    plan.combine_workgroup = plan.gpu_kernel ? 256 : 64;
    plan.combine_workgroups =
        plan.gpu_kernel ? uint64_t(s.n_heads) * DivUp(s.head_dim, kAttentionCombineSlice) : s.n_heads;
  }
  plan.bytes_read = uint64_t(span) * s.n_kv_heads * s.head_dim * kv_bytes_per_value * 2 * plan.row_blocks +
                    uint64_t(s.n_heads) * s.head_dim * 4;
  return plan;
}

}  // namespace vkg
