/* Push constants of ple_combine.comp. */
#ifndef VKG_PLE_PARAMS_H
#define VKG_PLE_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct PleParams {
  uint n_tokens;  /* T */
  uint n_layers;  /* L */
  uint dim;       /* P */
  uint ple_rows;  /* rows per layer in ple (>= T) */
  float scale;    /* 2^-0.5 */
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(PleParams, 20)
#endif
