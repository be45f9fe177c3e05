/* Push constants of read_bandwidth.comp. */
#ifndef VKG_BANDWIDTH_PARAMS_H
#define VKG_BANDWIDTH_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct ReadBandwidthParams {
  uint groups; /* workgroups that read: the bound range / (invocations x loads x 16 bytes) */
  uint magic;  /* the sink is written only if the loaded words xor to this (never, for a zero-filled source) */
  uint pad0, pad1;
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(ReadBandwidthParams, 16)
#endif
