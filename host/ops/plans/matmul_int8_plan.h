// Launch geometry of the integer-dot products (layer: host/ops): pure functions of the device
// description and the shape, so tests pin them for described GPUs without one
// (tests/ops/launch_geometry_test.cpp); host/ops/matmul_int8.cpp dispatches them.
#pragma once
#include <cstdint>

#include "host/formats/dtype.h"
#include "host/ops/plans/matvec_plan.h"
#include "vk/caps.h"

namespace vkg {

// Decode (M = 1, shaders/matvec_int8.comp): PlanMatVec's GPU geometry (rows per subgroup x
// subgroups per workgroup, so the same workgroup counts as the float product) with a block as a
// lane's unit: q8_0 one block (2 texels) per step, q4_0 two blocks (1 texel each), so 2 x
// rows_per_subgroup 16-byte weight loads per lane in flight either way. serial_row_bytes: weight
// bytes of one row a lane reads (ceil(blocks / subgroup) blocks); bytes_read: weights, their
// scales and the int8 x with its block scales. t: Q8_0 or Q4_0.
MatVecPlan PlanMatVecInt8(const vk::DeviceCaps& caps, DType t, uint64_t rows, uint32_t cols_padded);

// Prefill (M > 1, shaders/matmul_int8_tiled.comp): fixed tiles of 32 tokens x 64 rows, 256
// invocations, two blocks of K per step.
struct MatMulInt8Plan {
  static constexpr uint32_t kWorkgroup = 256, kTileTokens = 32, kTileRows = 64, kStepBlocks = 2;
  static constexpr uint32_t kSharedBytes = 2 * 8 * (32 + 64) * 4 + 2 * (32 + 64) * 4;  // int8 tiles + scales
  uint64_t row_groups = 0, token_groups = 0, workgroups = 0;
  uint32_t steps = 0;  // serial K steps of one invocation
};
MatMulInt8Plan PlanMatMulInt8(uint64_t rows, uint32_t tokens, uint32_t cols_padded);

}  // namespace vkg
