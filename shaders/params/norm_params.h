/* Push constants of rms_norm.comp and softmax.comp: row-wise ops over [rows][dim]. */
#ifndef VKG_NORM_PARAMS_H
#define VKG_NORM_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct RowParams {
  uint rows;
  uint dim;
  float eps;         /* RMSNorm epsilon (unused by softmax) */
  uint has_weight;   /* RMSNorm: 1 multiplies by the weight, 0 is the weightless form */
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(RowParams, 16)
#endif
