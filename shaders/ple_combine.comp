#version 460
// ple_combine: per-layer inputs of E2B/E4B, ple[l][t] = (ctx[t][l] + tok[t][l]) * 2^-0.5
// (docs/model.md §2.3). ctx is the model projection of x0 after its per-slice norm; tok holds the
// current tokens' rows of the per-layer embedding table (host memory), already scaled. Both are
// token-major; the output is layer-major, so each layer's block reads its rows as one tensor.
// binding 0: ple [L * ple_rows][P] f32, write (layer l's token t at row l * ple_rows + t).
// binding 1: tok [T][L * P] f32, read.
// binding 2: ctx [T][L * P] f32, read.
// VEC4 = 1 (the GPU kernel family): one invocation per 4 values with 16-byte loads and stores (P
// a multiple of 4). Launch geometry (host/ops/ple.cpp): workgroups of 64 over L * T * P / 4
// invocations: E2B decode 35 x 256 / 4 = 2240 invocations = 35 workgroups; a 64-token chunk 2240.
// push: PleParams.  spec 0: workgroup size.  dispatched by host/ops/ple.cpp
#extension GL_GOOGLE_include_directive : require
#include "params/ple_params.h"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"
#if VEC4
#define VT vec4
#define VW 4u
#else
#define VT float
#define VW 1u
#endif
layout(std430, binding = 0) writeonly buffer Ple { VT ple[]; };
layout(std430, binding = 1) readonly buffer Tok { VT tok[]; };
layout(std430, binding = 2) readonly buffer Ctx { VT ctx[]; };
layout(push_constant) uniform Push { PleParams p; };

void main() {
  const uint id = linearInvocation();  // one invocation per (layer, token, i), i in elements of VW
  const uint dim = p.dim / VW;
  if (id >= p.n_layers * p.n_tokens * dim) return;
  const uint i = id % dim;
  const uint t = (id / dim) % p.n_tokens;
  const uint l = id / (dim * p.n_tokens);
  const uint src = (t * p.n_layers + l) * dim + i;
  ple[(l * p.ple_rows + t) * dim + i] = (ctx[src] + tok[src]) * p.scale;
}
