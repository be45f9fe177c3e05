// Decode attention launch plans (layer: host/ops).
#include "host/ops/attention_plan.h"

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
  plan.kgroups = std::max(1u, kAttentionGpuWorkgroup / (s.head_dim / 8));
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
  const uint32_t per_tile = uint32_t(std::max(DivUp(kAttentionGpuTile, subgroups), DivUp(kAttentionGpuTile, plan.kgroups)));
  plan.serial_keys = tiles * per_tile;
}

}  // namespace

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
    plan.combine_workgroups = plan.gpu_kernel ? uint64_t(s.n_heads) * DivUp(s.head_dim, kAttentionCombineSlice) : s.n_heads;
  }
  plan.bytes_read = uint64_t(span) * s.n_kv_heads * s.head_dim * kv_bytes_per_value * 2 * plan.row_blocks +
                    uint64_t(s.n_heads) * s.head_dim * 4;
  return plan;
}

}  // namespace vkg
