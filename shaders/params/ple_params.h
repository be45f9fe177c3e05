/* Push constants of ple_combine.comp and ple_norm_combine.comp. */
#ifndef VKG_PLE_PARAMS_H
#define VKG_PLE_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct PleParams {
  uint n_tokens; /* T */
  uint n_layers; /* L */
  uint dim;      /* P */
  uint ple_rows; /* rows per layer in ple (>= T) */
  float scale;   /* 2^-0.5 */
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(PleParams, 20)

VKG_PARAMS_BEGIN
/* Push constants of ple_norm_combine.comp: PleParams plus the norm's epsilon. */
struct PleNormParams {
  uint n_tokens;
  uint n_layers;
  uint dim;
  uint ple_rows;
  float scale;
  float eps;
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(PleNormParams, 24)
#endif
