/* Push constants of the row-wise ops over [rows][dim]: rms_norm.comp, softmax.comp, residual_norm.comp. */
#ifndef VKG_NORM_PARAMS_H
#define VKG_NORM_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct RowParams {
  uint rows;
  uint dim;
  float eps;       /* RMSNorm epsilon (unused by softmax) */
  uint has_weight; /* RMSNorm: 1 multiplies by the weight, 0 is the weightless form */
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(RowParams, 16)

VKG_PARAMS_BEGIN
/* Push constants of residual_norm.comp: x = (x + rmsnorm(y, w_out)) * scale, then optionally
   a = rmsnorm(x, w_next), over [rows][dim]. */
struct ResidualNormParams {
  uint rows;
  uint dim;
  float eps;
  float scale;   /* residual factor (the layer scalar, or 1) */
  uint has_next; /* 1: also write a = rmsnorm(x, w_next) */
  uint pad0, pad1, pad2;
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(ResidualNormParams, 32)
VKG_PARAMS_BEGIN
/* Push constants of layer_norm.comp: y = LayerNorm(x [+ add]) * w + b over [rows][dim]. */
struct LayerNormParams {
  uint rows;
  uint dim;
  float eps;
  uint has_add; /* 1: normalise x + add */
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(LayerNormParams, 16)

VKG_PARAMS_BEGIN
/* Push constants of a decode product's block end (shaders/common/end_block.glsl, after the
   product's own MatMulParams): its last workgroup does residual_norm.comp's
   x = (x + rmsnorm(y, w_out)) * scale and optionally a = rmsnorm(x, w_next) on the one row of y. */
struct EndBlockParams {
  uint dim; /* H: the row (the product's N) */
  float eps;
  float scale;
  uint has_next; /* 1: also write a = rmsnorm(x, w_next) */
  uint quant;    /* 1: also write the row it ends with as int8 activations (quant_block.glsl) */
  /* residual_norm_rows.comp's plan for this row (host/ops/plans/row_plan.h PlanRow: workgroup,
     per): the row sums are added in that kernel's order, so the fold is bit-identical to it. */
  uint row_workgroup;
  uint row_per;
  uint pad0;
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(EndBlockParams, 32)
#endif
