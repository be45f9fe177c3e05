// Launch geometry of the decode matrix-vector product (M = 1) on a device (layer: host/ops).
// A pure function of the device description and the shape, so tests pin the geometry of described
// GPUs without one (tests/ops/launch_geometry_test.cpp); host/ops/matmul.cpp dispatches it.
#pragma once
#include <cstdint>

#include "host/formats/dtype.h"
#include "vk/caps.h"

namespace vkg {

struct MatVecPlan {
  bool rows_per_invocation = false;  // matvec_rows.comp (CPU devices); else matvec.comp
  uint32_t workgroup = 64;           // invocations per workgroup
  uint32_t rows_per_subgroup = 4;    // matvec.comp: rows a subgroup reduces at once (matvec_rows: per invocation)
  uint32_t rows_per_workgroup = 32;
  uint64_t workgroups = 0;        // for `rows` rows
  uint64_t serial_row_bytes = 0;  // most bytes of one weight row a single invocation reads
  uint32_t loads_in_flight = 0;   // independent 16-byte weight loads per invocation per step
  uint64_t bytes_read = 0;        // weights (+ scales) + x
};

// rows x cols_padded weights of type t (cols_padded: the row length as stored, a multiple of 32).
// gpu_family: matvec.comp with the split-K geometry below; else matvec_rows.comp.
// GPU geometry: a subgroup's lanes stride along the row one 16-byte texel at a time, two texels per
// step (2 x rows_per_subgroup loads in flight per lane); rows per subgroup and subgroups per
// workgroup are the largest of (4,4) (2,4) (1,4) (1,2) (1,1) that still launches at least
// kWorkgroupsPerComputeUnit workgroups per compute unit.
MatVecPlan PlanMatVec(const vk::DeviceCaps& caps, bool gpu_family, DType t, uint64_t rows, uint32_t cols_padded);

}  // namespace vkg
