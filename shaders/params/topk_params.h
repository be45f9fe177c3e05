/* Push constants of topk_softmax.comp (expert routing). */
#ifndef VKG_TOPK_PARAMS_H
#define VKG_TOPK_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct TopKParams {
  uint rows;
  uint n_experts;
  uint k;
  uint has_scale; /* multiply by per_expert_scale[id] */
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(TopKParams, 16)
#endif
