#version 460
// quantize_activations: X [M][K] f32 -> int8 per 32-value block, the input of the integer-dot
// q8_0/q4_0 products (matvec_int8.comp, matmul_int8_tiled.comp). Block b of row m holds
// x[m][32b .. 32b + 31] (zeros past K) as q = roundEven(x * 127 / amax) in [-127, 127] with
// d = amax * (1 / 127), amax = max |x| over the block (d = 0 and q = 0 for an all-zero block), and
// the block sum s = d * sum(q) that q4_0's stored +8 offset needs (sum((n - 8) q) = sum(n q) - 8 sum q).
// host/reference/ref_int8.cpp (QuantizeActivationsRef) does the same float operations.
// Bindings: 0: X [M][K] f32 storage, read (never past K)
//           1: Q [M][blocks][8] uint storage, write: 32 int8 per block, value i of the block in byte
//              i % 4 of uint i / 4 (the order of the q8_0 weights' texels), as two uvec4
//           2: S [M][blocks] vec2 storage, write: (d, d * sum q)
// Push: QuantizeParams (params/quantize_params.h).
// Spec: 0 workgroup size (64).
// Design and launch geometry (host/ops/quantize_activations.cpp): one invocation per block, its 8
// quad loads independent (8 x 16 bytes in flight), one scale pass and one pack pass in registers;
// workgroups = ceil(M x blocks / 64). The op reads 4 K bytes per token: E2B decode (K = 1536) is
// 48 invocations, one workgroup: latency only (one wave of loads, no loops past 32 values); a
// 512-token E2B prefill chunk 24576 invocations (384 workgroups), 31B (K = 5376) 86016 (1344), a
// 31B down-projection input (K = 21504) 344064: enough to fill a 132-SM GPU. It is a few
// microseconds next to the product that reads its output K times per weight row block.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "params/quantize_params.h"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X { float x_[]; };
layout(std430, binding = 0) readonly buffer X4 { vec4 x4_[]; };  // the same X, by quads
layout(std430, binding = 1) writeonly buffer Q { uvec4 q_[]; };
layout(std430, binding = 2) writeonly buffer S { vec2 s_[]; };
layout(push_constant) uniform Push { QuantizeParams p; };

// Values k .. k + 3 of row m, zeros past K; whole quads in one load when rows are 16-byte aligned.
vec4 quad(uint m, uint k) {
  const uint base = m * p.k;
  if ((p.k & 3u) == 0u && k < p.k) return x4_[(base + k) >> 2];
  vec4 v = vec4(0.0);
  [[unroll]] for (uint c = 0; c < 4; ++c) v[c] = k + c < p.k ? x_[base + k + c] : 0.0;
  return v;
}

void main() {
  const uint wg = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
  if (wg >= p.groups) return;
  const uint i = wg * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.rows * p.blocks) return;
  const uint m = i / p.blocks, b = i % p.blocks;
  vec4 v[8];
  [[unroll]] for (uint q = 0; q < 8; ++q) v[q] = quad(m, 32u * b + 4u * q);
  vec4 amax4 = vec4(0.0);
  [[unroll]] for (uint q = 0; q < 8; ++q) amax4 = max(amax4, abs(v[q]));
  const float amax = max(max(amax4.x, amax4.y), max(amax4.z, amax4.w));
  const float d = amax * (1.0 / 127.0);
  const float inv = amax > 0.0 ? 127.0 / amax : 0.0;
  uint words[8];
  int sum = 0;
  [[unroll]] for (uint q = 0; q < 8; ++q) {
    const ivec4 n = clamp(ivec4(roundEven(v[q] * inv)), ivec4(-127), ivec4(127));
    sum += n.x + n.y + n.z + n.w;
    words[q] = (uint(n.x) & 0xFFu) | ((uint(n.y) & 0xFFu) << 8) | ((uint(n.z) & 0xFFu) << 16) | (uint(n.w) << 24);
  }
  q_[2u * i] = uvec4(words[0], words[1], words[2], words[3]);
  q_[2u * i + 1u] = uvec4(words[4], words[5], words[6], words[7]);
  s_[i] = vec2(d, d * float(sum));
}
