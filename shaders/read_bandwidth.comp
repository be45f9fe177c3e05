#version 460
// read_bandwidth: streams a buffer once with 16-byte loads and no other work, to measure the
// read bandwidth a compute kernel can reach (host/device/bandwidth.cpp; the yardstick of `bench`'s
// "% of bandwidth"). Two variants: storage-buffer uvec4 loads (default) and RGBA32UI texel
// fetches (-DTEXEL=1; the way vkgemma reads weights, faster on some drivers such as lavapipe).
// Workgroup w reads the 16-byte elements [w * S * L, (w + 1) * S * L) of its bound range, with
// S = invocations per workgroup, L = loads per invocation: invocation i loads elements
// w * S * L + k * S + i for k < L, so each load instruction of a workgroup covers S x 16
// contiguous bytes (coalesced) and every invocation has L independent loads in flight. The
// loaded words are xor-ed and the sink written only when they equal a push constant the
// compiler cannot know, so no load can be dropped; the zero-filled source never matches.
// Launch geometry (host/device/bandwidth.cpp): S = 256, L = 4: 16 KiB per workgroup; one dispatch per
// bound range of at most 256 MiB (and within maxStorageBufferRange / maxTexelBufferElements):
// 16384 workgroups of 256 invocations (4.2 M invocations, 16.8 M loads) per 256 MiB. The buffer
// is min(1 GiB, device-local heap / 4): on an H100/H200 1 GiB (20x its 50-60 MB L2) = 4 dispatches
// = 65536 workgroups, ~500 per SM on 132 SMs; 2048 resident lanes per SM with 4 loads each keep
// 128 KB in flight per SM, where Little's law asks ~22 KB (docs/gpu.md). The shape does not
// depend on the model (E2B or 31B): only on the buffer size.
// binding 0: src, read (uvec4 storage buffer or usamplerBuffer).  binding 1: sink [1] uvec4, write.
// push: ReadBandwidthParams.  spec 0: workgroup size S.  spec 1: loads per invocation L.
#extension GL_GOOGLE_include_directive : require
#include "params/bandwidth_params.h"

layout(local_size_x_id = 0) in;
#include "indexing.glsl"
layout(constant_id = 1) const uint kLoads = 4;
#ifdef TEXEL
layout(binding = 0) uniform usamplerBuffer src;
#define LOAD(i) texelFetch(src, int(i))
#else
layout(std430, binding = 0) readonly buffer Src { uvec4 src[]; };
#define LOAD(i) src[i]
#endif
layout(std430, binding = 1) writeonly buffer Sink { uvec4 sink[]; };
layout(push_constant) uniform Push { ReadBandwidthParams p; };

void main() {
  const uint group = linearGroup();
  if (group >= p.groups) return;
  const uint base = group * gl_WorkGroupSize.x * kLoads + gl_LocalInvocationID.x;
  uvec4 v[kLoads];
  for (uint k = 0; k < kLoads; ++k) v[k] = LOAD(base + k * gl_WorkGroupSize.x);  // all issued first
  uvec4 acc = uvec4(0);
  for (uint k = 0; k < kLoads; ++k) acc ^= v[k];
  if ((acc.x ^ acc.y ^ acc.z ^ acc.w) == p.magic) sink[0] = acc;
}
