/* Push constants of embed.comp: gather rows of a weight matrix (one chunk of rows per dispatch). */
#ifndef VKG_EMBED_PARAMS_H
#define VKG_EMBED_PARAMS_H
#include "params/params_common.h"
VKG_PARAMS_BEGIN
struct EmbedParams {
  uint n_tokens;
  uint dim;         /* columns written per token */
  uint cols_padded; /* row length in the weight layout */
  uint row_begin;   /* first vocabulary row held by this chunk */
  uint chunk_rows;  /* rows held by this chunk */
  float scale;
};
VKG_PARAMS_END
VKG_PARAMS_CHECK(EmbedParams, 24)
#endif
