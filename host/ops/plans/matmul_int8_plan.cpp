// Integer-dot product launch geometry (layer: host/ops).
#include "host/ops/plans/matmul_int8_plan.h"

#include <algorithm>

#include "host/device/weight_matrix.h"
#include "host/ops/op_context.h"

namespace vkg {

MatVecPlan PlanMatVecInt8(const vk::DeviceCaps& caps, DType t, uint64_t rows, uint32_t cols_padded) {
  MatVecPlan p = PlanMatVec(caps, /*gpu_family=*/true, t, rows, cols_padded);
  const uint32_t sg = std::max<uint32_t>(caps.subgroup_size ? caps.subgroup_size : caps.max_subgroup_size, 1);
  const uint64_t blocks = cols_padded / kQuantBlock;
  const uint64_t block_bytes = t == DType::Q8_0 ? 32 : 16;
  p.serial_row_bytes = DivUp(blocks, sg) * block_bytes;
  p.loads_in_flight = 2 * p.rows_per_subgroup;
  p.bytes_read = rows * blocks * (block_bytes + 2) + blocks * (32 + 8);
  return p;
}

MatMulInt8Plan PlanMatMulInt8(uint64_t rows, uint32_t tokens, uint32_t cols_padded) {
  MatMulInt8Plan p;
  p.row_groups = DivUp(rows, MatMulInt8Plan::kTileRows);
  p.token_groups = DivUp(tokens, MatMulInt8Plan::kTileTokens);
  p.workgroups = p.row_groups * p.token_groups;
  p.steps = uint32_t(DivUp(cols_padded / kQuantBlock, MatMulInt8Plan::kStepBlocks));
  return p;
}

}  // namespace vkg
