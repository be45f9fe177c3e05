/* Push constants of the audio-tower shaders: audio_conv_norm.comp, audio_attention.comp,
   audio_glu_conv.comp, bias_act.comp. */
#ifndef VKG_AUDIO_PARAMS_H
#define VKG_AUDIO_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct AudioConvNormParams {
  uint t_in;  /* input rows (time) */
  uint f_in;  /* input columns (frequency) */
  uint c_in;  /* input channels (innermost) */
  uint t_out; /* (t_in - 1) / 2 + 1 */
  uint f_out; /* (f_in - 1) / 2 + 1 */
  uint c_out; /* output channels (<= 512) */
  float eps;  /* LayerNorm eps */
};
struct AudioAttentionParams {
  uint tokens;   /* T */
  uint heads;    /* NHa */
  uint head_dim; /* Da */
  uint window;   /* W keys per query: t - W + 1 .. t (<= 32) */
  uint stride;   /* floats per row of q, k, v, out (NHa * Da) */
  float k_scale; /* ln(1 + e) / ln 2 */
  float cap;     /* logit soft cap (50) */
};
struct AudioGluConvParams {
  uint tokens; /* T */
  uint hidden; /* Ha: input rows are [a | b] of 2 Ha */
  uint kernel; /* Kc taps, causal */
};
struct BiasActParams {
  uint n;        /* values */
  uint cols;     /* bias length (row width) */
  uint has_bias; /* 1: x += bias[column] first */
  uint silu;     /* 1: then x = x * sigmoid(x) */
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(AudioConvNormParams, 28)
VKG_PARAMS_CHECK(AudioAttentionParams, 28)
VKG_PARAMS_CHECK(AudioGluConvParams, 12)
VKG_PARAMS_CHECK(BiasActParams, 16)
#endif
