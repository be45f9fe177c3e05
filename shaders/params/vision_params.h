/* Push constants of the vision-tower shaders: clamp_copy.comp, rope_2d.comp, vision_pool.comp. */
#ifndef VKG_VISION_PARAMS_H
#define VKG_VISION_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct ClampParams {
  uint n;   /* values */
  float lo; /* clamp bounds (+-inf: that side unclamped) */
  float hi;
};
struct Rope2DParams {
  uint n_tokens;
  uint n_heads;
  uint head_dim;   /* a multiple of 4: x rotates [0, D/2), y rotates [D/2, D) */
  uint row_stride; /* floats between consecutive tokens (>= n_heads * head_dim) */
};
struct VisionPoolParams {
  uint n_soft;      /* pooled rows S */
  uint hidden;      /* Hv */
  uint members;     /* patches per soft token, k * k */
  float scale;      /* 1 / (k * k) * sqrt(Hv), applied to the sum */
  uint standardize; /* 1: (pooled - std_bias) * std_scale */
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(ClampParams, 12)
VKG_PARAMS_CHECK(Rope2DParams, 16)
VKG_PARAMS_CHECK(VisionPoolParams, 20)
#endif
