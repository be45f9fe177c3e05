#version 460
// vision_pool: the vision tower's pooler and standardize. Soft token s averages its k x k patches
// (HF's _avg_pool_by_positions: patch (x, y) -> s = x/k + (W/k)(y/k)), times sqrt(Hv), then
// optionally (v - std_bias) * std_scale: out[s][i] = (sum_m x[members[s][m]][i] * scale - b[i]) * c[i].
// binding 0: x [patches][Hv] f32, read (the encoder's output).
// binding 1: members [S][k * k] int, read: the patch rows of each soft token (from the positions, on
//            the host).
// binding 2: std_bias [Hv] f32, read (any buffer when p.standardize is 0).
// binding 3: std_scale [Hv] f32, read (likewise).
// binding 4: out [S][Hv] f32, write.
// push: VisionPoolParams.  spec 0: workgroup size.
// Launch geometry: one invocation per output value, S * Hv (1120 x 768 = 860k, 13k workgroups of 64);
// consecutive invocations read consecutive columns of each member row (coalesced). Dispatched by
// host/ops/vision.cpp.
#extension GL_GOOGLE_include_directive : require
#include "params/vision_params.h"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer M { int members[]; };
layout(std430, binding = 2) readonly buffer B { float std_bias[]; };
layout(std430, binding = 3) readonly buffer C { float std_scale[]; };
layout(std430, binding = 4) writeonly buffer Out { float out_[]; };
layout(push_constant) uniform Push { VisionPoolParams p; };

void main() {
  const uint id = linearInvocation();
  if (id >= p.n_soft * p.hidden) return;
  const uint i = id % p.hidden, s = id / p.hidden;
  float sum = 0.0;
  for (uint m = 0; m < p.members; ++m) sum += x[uint(members[s * p.members + m]) * p.hidden + i];
  float v = sum * p.scale;
  if (p.standardize != 0u) v = (v - std_bias[i]) * std_scale[i];
  out_[id] = v;
}
