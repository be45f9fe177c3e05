/* Push constants of quantize_activations.comp: X [rows][k] f32 -> int8 per 32-value block. */
#ifndef VKG_QUANTIZE_PARAMS_H
#define VKG_QUANTIZE_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct QuantizeParams {
  uint k;      /* K: columns of X (X rows are k floats apart) */
  uint blocks; /* blocks per row: ceil(k / 32); values past k quantize as zeros */
  uint rows;   /* M: rows of X */
  uint groups; /* workgroups in all; the grid may hold more */
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(QuantizeParams, 16)
#endif
