#version 460
// fill: out[i] = value for i < n. The smallest shader; exercises the whole dispatch path.
// binding 0: out [n] f32, write.  push: FillParams.  dispatched by host/ops/fill.cpp
#extension GL_GOOGLE_include_directive : require
#include "params/fill_params.h"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) writeonly buffer Out { float out_[]; };
layout(push_constant) uniform Push { FillParams p; };

void main() {
  const uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  if (i < p.n) out_[i] = p.value;
}
