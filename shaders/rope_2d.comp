#version 460
// rope_2d: Gemma 4's vision 2D RoPE in place. The first half of each head rotates by the patch's x,
// the second by its y, each half as rotate_half RoPE of D/2 dims: dim i pairs with i + D/4 within its
// half, angle = float(pos) * inv_freq[i] (ref::Rope2D, host/reference/ref_ops.h).
// binding 0: x [n_tokens][row_stride] f32 (heads at [h * head_dim]), read-write.
// binding 1: positions [n_tokens][2] int (x, y), read.
// binding 2: inv_freq [head_dim / 4] f32, read (ref::RopeInvFreq(D/2, theta, D/4) on the host).
// push: Rope2DParams.  spec 0: workgroup size.
// Launch geometry: one invocation per (token, head, axis, pair): T * NH * D / 2 invocations, e.g.
// 10080 patches x 12 heads x 32 = 3.9M (60k workgroups of 64); neighbouring invocations touch
// neighbouring pairs of one head half. Dispatched by host/ops/vision.cpp.
#extension GL_GOOGLE_include_directive : require
#include "params/vision_params.h"
#include "math.glsl"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Pos { int positions[]; };
layout(std430, binding = 2) readonly buffer F { float inv_freq[]; };
layout(push_constant) uniform Push { Rope2DParams p; };

void main() {
  const uint quarter = p.head_dim / 4;
  const uint id = linearInvocation();
  if (id >= p.n_tokens * p.n_heads * 2 * quarter) return;
  const uint i = id % quarter;
  const uint axis = (id / quarter) % 2;
  const uint h = (id / (2 * quarter)) % p.n_heads;
  const uint t = id / (2 * quarter * p.n_heads);
  const float angle = float(positions[2 * t + axis]) * inv_freq[i];
  const vec2 sc = sinCos(angle);
  const uint base = t * p.row_stride + h * p.head_dim + axis * 2 * quarter;
  const float a = x[base + i], b = x[base + i + quarter];
  x[base + i] = a * sc.y - b * sc.x;
  x[base + i + quarter] = b * sc.y + a * sc.x;
}
