/* Push constants of matvec_experts.comp: for slots s < n_slots and r < rows,
   Y[s][r] = sum_k W[ids[s] * rows_per_expert + row_begin + r][k] * X[s / x_div][k], restricted to
   the weight rows that lie in one chunk (global rows [chunk_row_begin, + chunk_rows)). */
#ifndef VKG_EXPERTS_PARAMS_H
#define VKG_EXPERTS_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct ExpertsParams {
  uint k;               /* K: columns of X (and real columns of W); X rows are k floats apart */
  uint row_texels;      /* texels per weight row in the data view: WeightRowBytes(cols_padded) / 16 */
  uint row_scales;      /* f16 scales per weight row (cols_padded / 32); q8_0 / q4_0 only */
  uint rows;            /* outputs per slot: Y rows are rows floats apart */
  uint rows_per_expert; /* weight rows of one expert in the stack */
  uint row_begin;       /* first row taken from each expert's block */
  uint n_experts;       /* E: ids outside [0, E) give zeros (written by the chunk holding row 0) */
  uint n_slots;         /* slots: entries of ids, rows of Y */
  uint x_div;           /* slot s reads X row s / x_div */
  uint chunk_row_begin; /* first global weight row of this chunk */
  uint chunk_rows;      /* weight rows in this chunk */
  uint row_groups;      /* workgroups per slot: ceil(rows / rows_per_workgroup) */
  uint groups;          /* workgroups in all (n_slots x row_groups); the grid may hold more */
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(ExpertsParams, 52)
#endif
