// Launch geometry of the matrix-unit prefill product (layer: host/ops).
#include "host/ops/plans/matmul_coopmat_plan.h"

namespace vkg {
void DeriveCoopMatPlan(CoopMatPlan& p, uint32_t m_tokens, uint64_t rows) {
  p.workgroup = p.sg_m * p.sg_n * p.lanes;
  p.tile_m = p.sg_m * p.frag_m * p.fm;
  p.tile_n = p.sg_n * p.frag_n * p.fn;
  const uint32_t stride = p.step_k + 8;  // f16 per shared row (A_STRIDE, B_STRIDE)
  // Two buffers of each tile; the staging fragments (sg_m x sg_n x fm x fn f32) live in the weight
  // buffers after the K loop, which always hold more.
  p.shared_bytes = 2 * (p.tile_m + p.tile_n) * stride * 2;
  p.workgroups = ((m_tokens + p.tile_m - 1) / p.tile_m) * ((rows + p.tile_n - 1) / p.tile_n);
}

CoopMatPlan PlanCoopMat(const vk::DeviceCaps& caps, const vk::CoopMatShape& unit, uint32_t lanes, uint32_t m_tokens,
                        uint64_t rows) {
  CoopMatPlan p;
  p.fm = unit.m;
  p.fn = unit.n;
  p.fk = unit.k;
  p.lanes = lanes;
  p.step_k = kCoopMatMinStepK;  // whether a tile fits at all is decided at the smaller step
  DeriveCoopMatPlan(p, m_tokens, rows);
  const uint64_t want = kCoopMatWorkgroupsPerComputeUnit * caps.ComputeUnits();
  const uint32_t max_shared = caps.max_shared_memory ? caps.max_shared_memory : 16 * 1024;
  while (p.workgroups < want || p.shared_bytes > max_shared) {
    if (p.frag_n > 2)
      p.frag_n = 2;
    else if (p.frag_m > 1)
      p.frag_m = 1;
    else if (p.frag_n > 1)
      p.frag_n = 1;
    else
      break;
    DeriveCoopMatPlan(p, m_tokens, rows);
  }
  ChooseCoopMatStep(p, m_tokens, rows, max_shared);
  return p;
}

void ChooseCoopMatStep(CoopMatPlan& p, uint32_t m_tokens, uint64_t rows, uint32_t max_shared) {
  p.step_k = kCoopMatStepK;
  DeriveCoopMatPlan(p, m_tokens, rows);
  if (p.shared_bytes > max_shared) {
    p.step_k = kCoopMatMinStepK;
    DeriveCoopMatPlan(p, m_tokens, rows);
  }
}

}  // namespace vkg
