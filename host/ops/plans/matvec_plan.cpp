// Decode matrix-vector launch geometry (layer: host/ops).
#include "host/ops/plans/matvec_plan.h"

#include <algorithm>

#include "host/device/weight_matrix.h"
#include "host/ops/op_context.h"
#include "host/ops/plans/attention_plan.h"  // kWorkgroupsPerComputeUnit

namespace vkg {

MatVecPlan PlanMatVec(const vk::DeviceCaps& caps, bool gpu_family, DType t, uint64_t rows, uint32_t cols_padded) {
  // The size the driver runs our shaders at: SPIR-V 1.5 (--target-env vulkan1.2) pipelines made
  // without VK_PIPELINE_SHADER_STAGE_CREATE_ALLOW_VARYING_SUBGROUP_SIZE_BIT get subgroupSize.
  const uint32_t sg = std::max<uint32_t>(caps.subgroup_size ? caps.subgroup_size : caps.max_subgroup_size, 1);
  const uint64_t row_bytes = WeightRowBytes(t, cols_padded);
  const uint64_t row_texels = row_bytes / 16;
  MatVecPlan p;
  if (!gpu_family) {
    // CPU devices: each invocation owns 8 whole rows where a row's weights take at most 4 KiB, else
    // 4. Minimum times of alternated runs on lavapipe: 8 beat 4 by 5-20% on rows of 1-4 KiB and lost
    // by 10-90% on rows of 5-43 KiB; 2 was slower everywhere. 32 invocations keep workgroups
    // numerous enough for every CPU thread even on the 256-row products.
    p.rows_per_invocation = true;
    p.workgroup = 32;
    p.rows_per_subgroup = row_bytes <= 4096 ? 8 : 4;
    p.rows_per_workgroup = p.workgroup * p.rows_per_subgroup;
    p.serial_row_bytes = row_bytes;
    p.loads_in_flight = p.rows_per_subgroup;
  } else {
    // GPUs: workgroups of whole subgroups (matvec.comp loops its subgroups over the workgroup's
    // row blocks, so another subgroup size only idles or doubles up some of them). Fewer rows per workgroup for the small matrices (E2B's 1536-row
    // products) keep 4 workgroups per compute unit; 4 rows x 4 subgroups where rows are plentiful
    // (every x value fetched serves 4 rows).
    struct Option {
      uint32_t rows_per_subgroup, subgroups;
    };
    constexpr Option kOptions[] = {{4, 4}, {2, 4}, {1, 4}, {1, 2}, {1, 1}};
    const uint64_t target = uint64_t(caps.ComputeUnits()) * kWorkgroupsPerComputeUnit;
    Option pick = kOptions[4];
    for (const Option& o : kOptions) {
      if (DivUp(rows, uint64_t(o.rows_per_subgroup) * o.subgroups) >= target) {
        pick = o;
        break;
      }
    }
    p.workgroup = sg * pick.subgroups;
    p.rows_per_subgroup = pick.rows_per_subgroup;
    p.rows_per_workgroup = pick.rows_per_subgroup * pick.subgroups;
    p.serial_row_bytes = DivUp(row_texels, sg) * 16;
    p.loads_in_flight = 2 * pick.rows_per_subgroup;
  }
  p.workgroups = DivUp(rows, p.rows_per_workgroup);
  const uint64_t scales = rows * WeightScaleRowBytes(t, cols_padded);
  p.bytes_read = rows * row_bytes + scales + uint64_t(cols_padded) * 4;
  return p;
}

}  // namespace vkg
