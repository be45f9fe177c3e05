/* Push constants of moe_combine.comp. */
#ifndef VKG_MOE_PARAMS_H
#define VKG_MOE_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct MoeCombineParams {
  uint n_tokens;
  uint top_k;
  uint dim;
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(MoeCombineParams, 12)
#endif
