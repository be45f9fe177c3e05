// Launch geometry of the matrix-unit prefill product (shaders/matmul_coopmat.comp; layer: host/ops).
// A pure function of the device description, the unit shape and the product's shape, so tests pin
// it for described GPUs without one (tests/ops/launch_geometry_test.cpp).
#pragma once
#include <cstdint>

#include "vk/caps.h"

namespace vkg {

struct CoopMatPlan {
  uint32_t fm = 16, fn = 16, fk = 16;  // the unit: tokens x weight rows x K per multiply-add
  uint32_t sg_m = 2, sg_n = 2;         // subgroups along tokens and rows
  uint32_t frag_m = 2, frag_n = 4;     // accumulator fragments per subgroup
  uint32_t lanes = 32;                 // invocations per subgroup
  uint32_t workgroup = 128;            // sg_m x sg_n x lanes
  uint32_t tile_m = 64, tile_n = 128;  // tokens and weight rows per workgroup
  uint32_t step_k = 64;                // K values per pipeline step (spec constant 8): 64 or 32
  uint32_t shared_bytes = 0;           // two x tiles + two weight tiles (f16; staging reuses them)
  uint64_t workgroups = 0;             // for m_tokens x rows
};

// The shaders' constants (matmul_coopmat.comp, coopmat_fragment.glsl). Steps are 64 K values where
// the double-buffered tile fits shared memory, else 32 (a unit's K must divide the smaller).
inline constexpr uint32_t kCoopMatStepK = 64;
inline constexpr uint32_t kCoopMatMinStepK = 32;
inline constexpr uint32_t kCoopMatEmulatedLanes = 8;

// m_tokens x rows output on units of `unit` (an f16 x f16 -> f32 subgroup shape). lanes: the
// device's subgroup size, or kCoopMatEmulatedLanes for the emulated fragments. Starts from 2 x 2
// subgroups with 2 x 4 fragments each (64 x 128 at 16x16 units: every weight byte loaded serves 64
// tokens) and halves the tile (rows first, then tokens, then rows) while the product launches fewer
// than kWorkgroupsPerComputeUnit workgroups per compute unit or the tile overflows shared memory
// (at 32-K steps); then takes 64-K steps where their two buffers fit (half the barriers per K).
inline constexpr uint64_t kCoopMatWorkgroupsPerComputeUnit = 2;
CoopMatPlan PlanCoopMat(const vk::DeviceCaps& caps, const vk::CoopMatShape& unit, uint32_t lanes, uint32_t m_tokens,
                        uint64_t rows);

// Fills in workgroup, tiles, shared_bytes and workgroups from the unit, subgroups, fragments and
// step_k (tests that force a tile change frag_m / frag_n and call it again).
void DeriveCoopMatPlan(CoopMatPlan& p, uint32_t m_tokens, uint64_t rows);
// The largest step whose buffers fit max_shared bytes (kCoopMatMinStepK when neither does).
void ChooseCoopMatStep(CoopMatPlan& p, uint32_t m_tokens, uint64_t rows, uint32_t max_shared);

}  // namespace vkg
