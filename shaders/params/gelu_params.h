/* Push constants of gelu_mul.comp. Output i = (row t, column c) reads gate at t * in_stride + c and
   up at t * in_stride + up_offset + c, so one shader serves separate gate/up tensors (in_stride
   = cols, up_offset = 0) and fused [gate | up] rows of one product (in_stride = 2 * cols,
   up_offset = cols). */
#ifndef VKG_GELU_PARAMS_H
#define VKG_GELU_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct GeluMulParams {
  uint n; /* outputs: rows * cols */
  uint cols;
  uint in_stride; /* floats between rows of the inputs */
  uint up_offset; /* floats from a gate value to its up value within the up binding's row */
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(GeluMulParams, 16)
#endif
