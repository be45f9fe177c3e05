#version 460
// ple_combine: per-layer inputs of E2B/E4B, ple[l][t] = (ctx[t][l] + tok[t][l]) * 2^-0.5
// (gemma4.md §2.3). ctx is the model projection of x0 after its per-slice norm; tok holds the
// current tokens' rows of the per-layer embedding table (host memory), already scaled. Both are
// token-major; the output is layer-major, so each layer's block reads its rows as one tensor.
// binding 0: ple [L * ple_rows][P] f32, write (layer l's token t at row l * ple_rows + t).
// binding 1: tok [T][L * P] f32, read.
// binding 2: ctx [T][L * P] f32, read.
// push: PleParams.  spec 0: workgroup size.  dispatched by host/ops/ple.cpp
#extension GL_GOOGLE_include_directive : require
#include "params/ple_params.h"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"
layout(std430, binding = 0) writeonly buffer Ple { float ple[]; };
layout(std430, binding = 1) readonly buffer Tok { float tok[]; };
layout(std430, binding = 2) readonly buffer Ctx { float ctx[]; };
layout(push_constant) uniform Push { PleParams p; };

void main() {
  const uint id = linearInvocation();  // one invocation per (layer, token, i)
  if (id >= p.n_layers * p.n_tokens * p.dim) return;
  const uint i = id % p.dim;
  const uint t = (id / p.dim) % p.n_tokens;
  const uint l = id / (p.dim * p.n_tokens);
  const uint src = (t * p.n_layers + l) * p.dim + i;
  ple[(l * p.ple_rows + t) * p.dim + i] = (ctx[src] + tok[src]) * p.scale;
}
