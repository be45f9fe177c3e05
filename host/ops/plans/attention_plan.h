// How decode and prefill attention are launched on a device: which kernel, how the keys are split, and the
// launch geometry that follows (layer: host/ops). Pure functions of the device description and the
// shape, so tests pin the geometry on described GPUs without one (tests/ops/launch_geometry_test.cpp).
#pragma once
#include <cstdint>

#include "host/ops/attention.h"
#include "vk/caps.h"

namespace vkg {

// GPU kernel constants (shaders/attention_decode_gpu.comp).
inline constexpr uint32_t kAttentionGpuWorkgroup = 256;
inline constexpr uint32_t kAttentionGpuTile = 32;         // keys per tile
inline constexpr uint32_t kAttentionGpuMaxKeyGroups = 8;  // P.V key groups (head 256: exactly 8)
inline constexpr uint32_t kAttentionGpuMaxKeysPerSplit = 256;
inline constexpr uint32_t kAttentionGpuMaxSplits = 1024;  // the combine pass's shared weights
inline constexpr uint32_t kAttentionGpuMaxRows = 8;       // query heads per workgroup
inline constexpr uint32_t kAttentionCombineSlice = 64;    // head values per combine workgroup
// Workgroups per compute unit the split plan aims for (docs/gpu.md: enough warps in
// flight per SM to hide memory latency), and the most compute units it plans for (so that the
// scratch sized without a device, Activations::Bytes, fits every device).
inline constexpr uint32_t kWorkgroupsPerComputeUnit = 4;
inline constexpr uint32_t kMaxPlannedComputeUnits = 256;

// The first key position the first query of a chunk sees (the widest range of any query in it).
uint32_t AttentionFirstKey(const AttentionShape& shape);

// Query rows per workgroup of the one-subgroup kernels (attention_prefill.comp, and decode's
// attention_decode.comp): each K/V row loaded serves the rows, but every lane holds 2 * rows *
// ceil(head_dim / (2 * sg_min)) pairs of q and o, so big heads get fewer rows (lavapipe: head_dim
// 512 -> 2 rows, 256 -> 4, <= 128 -> 8); never more than `limit`.
uint32_t AttentionSubgroupRows(uint32_t head_dim, uint32_t sg_min, uint32_t limit);

struct AttentionDecodePlan {
  bool gpu_kernel = false;  // attention_decode_gpu.comp, else attention_decode.comp
  uint32_t splits = 1;      // key ranges, one workgroup each per (row block, KV head)
  uint32_t keys_per_split = 0;
  uint32_t rows = 1;                // query heads per workgroup (ROWS)
  uint32_t row_blocks = 1;          // ceil(group / rows)
  uint32_t workgroup = 0;           // invocations per workgroup (pass 1)
  uint32_t kgroups = 1;             // GPU kernel: key groups of the P.V step
  uint64_t workgroups = 0;          // pass 1: row_blocks x KV heads x splits
  uint64_t combine_workgroups = 0;  // pass 2 (0 with one split)
  uint32_t combine_workgroup = 0;
  uint32_t serial_keys = 0;  // most keys one invocation loads K or V rows of, in one phase
  uint64_t bytes_read = 0;   // K and V bytes pass 1 reads (+ q)
  uint64_t ScratchFloats(uint32_t n_heads, uint32_t head_dim) const {
    return splits > 1 ? uint64_t(splits) * n_heads * (head_dim + 2) : 0;
  }
};

// The plan for one decode step (T = 1) of `shape` (start_pos = the position planned for: the end
// of the context for a replayed step). gpu_family: the GPU kernel family (KernelFamily), which
// needs head_dim % 8 == 0 and 256-invocation workgroups, else the CPU kernel is planned.
// with_scratch: false plans a single split (no partials buffer).
AttentionDecodePlan PlanAttentionDecode(const vk::DeviceCaps& caps, bool gpu_family, const AttentionShape& shape,
                                        uint32_t kv_bytes_per_value, bool with_scratch = true);

// Prefill GPU kernel constants (shaders/attention_prefill_gpu.comp).
inline constexpr uint32_t kAttentionPrefillGpuWorkgroup = 256;
inline constexpr uint32_t kAttentionPrefillMinKeysPerSplit = 64;  // a split's partials cost BR x head
// lavapipe (Mesa 22.3 gallivm) silently ends an outermost loop after 65535 iterations counted over
// every loop nested in it; plans keep below this.
inline constexpr uint64_t kLavapipeLoopLimit = 65000;

struct AttentionPrefillPlan {
  bool gpu_kernel = false;          // attention_prefill_gpu.comp, else attention_prefill.comp
  uint32_t rows = 1;                // query rows per workgroup (GPU: BR; CPU kernel: ROWS)
  uint32_t keys_per_tile = 0;       // GPU: BC, keys per shared-memory tile
  uint32_t workgroup = 0;           // invocations per workgroup
  uint32_t row_blocks = 1;          // ceil(T * group / rows)
  uint32_t splits = 1;              // GPU: key ranges per row block (partials + the combine pass)
  uint32_t keys_per_split = 0;      // GPU: a multiple of keys_per_tile (the widest block's keys: 1 split)
  uint64_t workgroups = 0;          // row_blocks x KV heads x splits
  uint64_t combine_workgroups = 0;  // T * n_heads x ceil(head_dim / 64) with splits, else 0
  uint32_t shared_bytes = 0;        // GPU: shared memory per workgroup
  uint32_t serial_keys = 0;         // most keys one workgroup walks
  uint64_t loop_iterations = 0;     // GPU: loop iterations of one workgroup, all loops (lavapipe's limit)
  uint64_t bytes_read = 0;          // K and V bytes the row blocks read (+ q)
  // Matrix-unit kernel (attention_prefill_coopmat.comp; gpu_kernel is also true): the unit, the
  // subgroups per workgroup, the head-dimension split of the S fragments and c_sh's f32 count.
  bool coopmat = false;
  uint32_t fm = 0, fn = 0, fk = 0;
  uint32_t lanes = 0;  // invocations per fragment subgroup (device subgroup, 8 emulated)
  uint32_t subgroups = 0;
  uint32_t ksplit = 1;
  uint32_t c_floats = 0;
  uint64_t ScratchFloats(uint32_t n_tokens, uint32_t n_heads, uint32_t head_dim) const {
    return splits > 1 ? uint64_t(splits) * n_tokens * n_heads * (head_dim + 2) : 0;
  }
};

// Shared memory of attention_prefill_gpu.comp with BR = rows, BC = keys_per_tile.
uint32_t AttentionPrefillGpuSharedBytes(uint32_t head_dim, uint32_t kv_bytes_per_value, uint32_t rows,
                                        uint32_t keys_per_tile);

// The plan for T > 1 query tokens of `shape`. gpu_family: the GPU kernel family, which needs
// head_dim % 8 == 0, 256-invocation workgroups and a tile that fits maxComputeSharedMemorySize
// (else the CPU kernel, attention_prefill.comp, is planned). The GPU plan takes the largest BR x BC
// tile that fits (BR 32 x BC 32, 16 x 32, 16 x 16, 8 x 16, 8 x 8, 4 x 8) and, with_scratch, splits
// the keys of each row block when row blocks x KV heads < kWorkgroupsPerComputeUnit x compute units.
AttentionPrefillPlan PlanAttentionPrefill(const vk::DeviceCaps& caps, bool gpu_family, const AttentionShape& shape,
                                          uint32_t n_tokens, uint32_t kv_bytes_per_value, bool with_scratch = true);

// ---- prefill on matrix units (shaders/attention_prefill_coopmat.comp) ----
inline constexpr uint32_t kAttentionCoopMatSubgroups = 4;  // fragment subgroups per workgroup

// Shared memory of attention_prefill_coopmat.comp: Q and P (f16), one K/V tile (f16), c_sh (f32:
// S partials or staging fragments), m / l / rescale factor per row and the rescale flag.
uint32_t AttentionPrefillCoopMatSharedBytes(uint32_t head_dim, uint32_t rows, uint32_t keys_per_tile,
                                            uint32_t c_floats);

// The plan for T > 1 query tokens on units of `unit` (an f16 x f16 -> f32 subgroup shape; lanes:
// the device's subgroup size, or kCoopMatEmulatedLanes for the emulated fragments): the largest
// BR x BC tile of the list 64x64, 64x32, 32x64, 32x32, 64x16, 32x16, 16x32, 16x16, 16x8, 8x16, 8x8 that is a
// multiple of the unit, fits maxComputeSharedMemorySize and spreads its S and O fragments evenly
// over kAttentionCoopMatSubgroups subgroups (the head split KSPLIT ways when S has fewer fragments
// than subgroups); the key splits as PlanAttentionPrefill's. coopmat = false (nothing else set)
// where no tile fits or the head is not a multiple of the unit: the caller keeps the other kernels.
AttentionPrefillPlan PlanAttentionPrefillCoopMat(const vk::DeviceCaps& caps, const vk::CoopMatShape& unit,
                                                 uint32_t lanes, const AttentionShape& shape, uint32_t n_tokens,
                                                 uint32_t kv_bytes_per_value, bool with_scratch = true);

}  // namespace vkg
