/* Push constants of coopmat_peak.comp. */
#ifndef VKG_COOPMAT_PEAK_PARAMS_H
#define VKG_COOPMAT_PEAK_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct CoopMatPeakParams {
  uint iterations; /* multiply-adds per accumulator */
  float a, b;      /* fragment fill values: unknown to the compiler, so nothing folds */
  float magic;     /* the sink is written only if an accumulator element equals this (never) */
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(CoopMatPeakParams, 16)
#endif
