/* Push constants of rope.comp. */
#ifndef VKG_ROPE_PARAMS_H
#define VKG_ROPE_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct RopeParams {
  uint n_tokens;
  uint n_heads;
  uint head_dim;
  uint start_pos;  /* token t is at position start_pos + t */
  uint row_stride; /* floats between consecutive tokens (>= n_heads * head_dim) */
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(RopeParams, 20)
#endif
