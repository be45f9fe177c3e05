/* Push constants of fill.comp: write `value` into n floats. */
#ifndef VKG_FILL_PARAMS_H
#define VKG_FILL_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct FillParams {
  uint n;
  float value;
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(FillParams, 8)
#endif
