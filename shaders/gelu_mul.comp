#version 460
// gelu_mul: out = gelu_tanh(gate) * up, elementwise (the gated feed-forward of Gemma 4), over
// [rows][cols] outputs whose inputs are either separate tensors or the [gate | up] halves of each
// row of one fused product (see params/gelu_params.h).
// binding 0: gate, read.  binding 1: up, read (may be the same buffer).
// binding 2: out [rows][cols] f32, write (may alias gate when the layouts match).
// push: GeluMulParams.  spec 0: workgroup size.  dispatched by host/ops/elementwise.cpp
#extension GL_GOOGLE_include_directive : require
#include "params/gelu_params.h"
#include "math.glsl"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"
layout(std430, binding = 0) readonly buffer G { float gate[]; };
layout(std430, binding = 1) readonly buffer U { float up[]; };
layout(std430, binding = 2) writeonly buffer O { float out_[]; };
layout(push_constant) uniform Push { GeluMulParams p; };

void main() {
  const uint i = linearInvocation();
  if (i >= p.n) return;
  const uint t = i / p.cols, c = i % p.cols;
  const uint at = t * p.in_stride + c;
  out_[i] = geluTanh(gate[at]) * up[at + p.up_offset];
}
