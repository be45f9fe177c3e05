/* Push constants of the elementwise shaders: gelu_mul.comp, softcap.comp, add_scaled.comp. */
#ifndef VKG_ELEMENTWISE_PARAMS_H
#define VKG_ELEMENTWISE_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct ElementwiseParams {
  uint n;
  float scale; /* add_scaled: the factor; softcap: the cap */
  uint has_b;  /* add_scaled: 0 means out = a * scale */
  uint pad;
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(ElementwiseParams, 16)
#endif
