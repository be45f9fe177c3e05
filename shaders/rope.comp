#version 460
// rope: rotate_half (NeoX) rotary embedding in place. Dim i pairs with i + head_dim/2; the angle is
// float(pos) * inv_freq[i]. Pairs whose inv_freq is 0 are left untouched, which gives Gemma 4's
// proportional RoPE on full layers (64 rotated pairs of a 512-dim head) from the same shader.
// binding 0: x [n_tokens][row_stride] f32 (heads at [h * head_dim]), read-write.
// binding 1: inv_freq [head_dim / 2] f32, read (computed on the host in float32, as HF does).
// push: RopeParams.  spec 0: workgroup size.  dispatched by host/ops/rope.cpp
#extension GL_GOOGLE_include_directive : require
#include "params/rope_params.h"
#include "math.glsl"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"
layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer F { float inv_freq[]; };
layout(push_constant) uniform Push { RopeParams p; };

void main() {
  const uint half_dim = p.head_dim / 2;
  const uint id = linearInvocation();  // one invocation per (token, head, pair)
  if (id >= p.n_tokens * p.n_heads * half_dim) return;
  const uint i = id % half_dim;
  const uint h = (id / half_dim) % p.n_heads;
  const uint t = id / (half_dim * p.n_heads);
  const float f = inv_freq[i];
  if (f == 0.0) return;
  const float angle = float(p.start_pos + t) * f;
  const vec2 sc = sinCos(angle);
  const uint base = t * p.row_stride + h * p.head_dim;
  const float a = x[base + i], b = x[base + i + half_dim];
  x[base + i] = a * sc.y - b * sc.x;
  x[base + i + half_dim] = b * sc.y + a * sc.x;
}
