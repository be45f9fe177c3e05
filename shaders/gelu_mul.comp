#version 460
// gelu_mul: out = gelu_tanh(gate) * up, elementwise (the gated feed-forward of Gemma 4), over
// [rows][cols] outputs whose inputs are either separate tensors or the [gate | up] halves of each
// row of one fused product (see params/gelu_params.h).
// binding 0: gate, read.  binding 1: up, read (may be the same buffer).
// binding 2: out [rows][cols] f32, write (may alias gate when the layouts match).
// VEC4 = 1 (both kernel families where aligned): one invocation per 4 outputs with 16-byte loads and stores;
// cols, in_stride, up_offset and the bindings' offsets must be multiples of 4 floats. Launch
// geometry (host/ops/elementwise.cpp): workgroups of 64, ceil(n / 4 / 64) of them: E2B decode
// (6144 or double-wide 12288 outputs) 24-48 workgroups, the PLE gate (256) 1; 31B (21504) 84;
// a 64-token prefill chunk 64x that. Small workgroups so that even decode spreads over several
// dozen compute units; each lane has its two 16-byte loads in flight at once.
// push: GeluMulParams.  spec 0: workgroup size.  dispatched by host/ops/elementwise.cpp
#extension GL_GOOGLE_include_directive : require
#include "params/gelu_params.h"
#include "math.glsl"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"
#if VEC4
layout(std430, binding = 0) readonly buffer G { vec4 gate[]; };
layout(std430, binding = 1) readonly buffer U { vec4 up[]; };
layout(std430, binding = 2) writeonly buffer O { vec4 out_[]; };
#else
layout(std430, binding = 0) readonly buffer G { float gate[]; };
layout(std430, binding = 1) readonly buffer U { float up[]; };
layout(std430, binding = 2) writeonly buffer O { float out_[]; };
#endif
layout(push_constant) uniform Push { GeluMulParams p; };

void main() {
#if VEC4
  const uint i = linearInvocation();  // outputs 4i .. 4i + 3, all in one row (cols % 4 == 0)
  if (i >= p.n / 4u) return;
  const uint t = (4u * i) / p.cols, c = (4u * i) % p.cols;
  const uint at = (t * p.in_stride + c) / 4u;
  const vec4 g = gate[at], u = up[at + p.up_offset / 4u];
  out_[i] = vec4(geluTanh(g.x), geluTanh(g.y), geluTanh(g.z), geluTanh(g.w)) * u;
#else
  const uint i = linearInvocation();
  if (i >= p.n) return;
  const uint t = i / p.cols, c = i % p.cols;
  const uint at = t * p.in_stride + c;
  out_[i] = geluTanh(gate[at]) * up[at + p.up_offset];
#endif
}
