/* Push constants of matvec.comp and matmul.comp: Y[m][row_offset + r] = sum_k X[m][k] * W[r][k]
   for the rows r < rows of one weight chunk (a row range of the matrix) and m < m_tokens. */
#ifndef VKG_MATMUL_PARAMS_H
#define VKG_MATMUL_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct MatMulParams {
  uint k;          /* K: columns of X (and real columns of W); X rows are k floats apart */
  uint row_texels; /* texels per weight row in the data view: WeightRowBytes(cols_padded) / 16 */
  uint row_scales; /* f16 scales per weight row (cols_padded / 32); q8_0 / q4_0 only */
  uint rows;       /* weight rows in this chunk */
  uint row_offset; /* first output column of this chunk in Y (chunk.row_begin) */
  uint n;          /* N: columns of Y (all rows of the matrix); Y rows are n floats apart */
  uint m_tokens;   /* M: rows of X and Y */
  uint row_groups; /* workgroups along the rows: ceil(rows / rows_per_workgroup) */
  uint groups;     /* workgroups in all (row_groups x token groups); the grid may hold more */
  float softcap;   /* > 0: y = softcap * tanh(y / softcap) fused into the write (final logits) */
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(MatMulParams, 40)
#endif
