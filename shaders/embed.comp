#version 460
// embed: out[t][i] = table[ids[t]][i] * scale for the tokens whose row lies in this weight chunk
// (rows row_begin .. row_begin + chunk_rows - 1); other tokens are left to the other chunks'
// dispatches. Variants per table dtype: -DWEIGHT_<FMT> for every weight format
// (shaders/weight_formats.cmake).
// binding 0: weights (texel view of the chunk).  binding 1: scales (texel view; q8_0/q4_0 only,
// the data view again otherwise).  binding 2: ids [n_tokens] int32, read.
// binding 3: out [n_tokens][dim] f32, write.
// push: EmbedParams.  spec 0: workgroup size.  dispatched by host/ops/embed.cpp
#extension GL_GOOGLE_include_directive : require
#include "params/embed_params.h"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"
layout(binding = 0) uniform usamplerBuffer weights;
layout(binding = 1) uniform usamplerBuffer scales;
layout(std430, binding = 2) readonly buffer Ids { int ids[]; };
layout(std430, binding = 3) writeonly buffer Out { float out_[]; };
layout(push_constant) uniform Push { EmbedParams p; };

#include "weight_element.glsl"

void main() {
  const uint id = linearInvocation();  // one invocation per (token, column)
  if (id >= p.n_tokens * p.dim) return;
  const uint t = id / p.dim, i = id % p.dim;
  const uint row = uint(ids[t]) - p.row_begin;  // wraps to a huge value below the chunk
  if (row >= p.chunk_rows) return;
  out_[id] = weightElement(row * p.cols_padded + i, p.cols_padded) * p.scale;
}
