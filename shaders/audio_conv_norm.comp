#version 460
// audio_conv_norm: one subsampling layer of the Gemma 4 audio tower (HF's
// Gemma4AudioSubSampleConvProjectionLayer): a 3x3 stride-2 convolution with padding 1 and no bias,
// LayerNorm over the output channels (weight, no bias) and ReLU, all in one pass.
//   out[t][f][co] = relu(LN_co(sum_{ci, dt, df} w[co][ci][dt][df] * in[2t+dt-1][2f+df-1][ci]))
// (rows and columns outside the input read 0). Layouts are channel-innermost, so the second layer
// reads the first's output as is and the last one's rows are input_proj_linear's [F * C] rows.
// binding 0: in [t_in][f_in][c_in] f32.  binding 1: w [c_out][c_in][3][3] f32.
// binding 2: norm [c_out] f32.  binding 3: out [t_out][f_out][c_out] f32.
// push: AudioConvNormParams.  Workgroup: 64 invocations (fixed).
// Launch geometry: one workgroup per output position (t, f), Grid1D(t_out * f_out): 30 s of audio is
// 1500 x 64 = 96k workgroups for the first layer and 750 x 32 = 24k for the second, plenty to fill
// any GPU. The 3 x 3 x c_in input patch is staged once in shared memory with coalesced loads, then
// each invocation computes output channels tid, tid + 64, ... from it (a weight row per channel,
// reused by every workgroup and so cached); two shared-memory reductions give the channel mean and
// variance (two-pass, as torch). Four barriers per workgroup; one dispatch per layer.
#extension GL_GOOGLE_include_directive : require
#include "params/audio_params.h"

layout(local_size_x = 64) in;
#include "indexing.glsl"

layout(std430, binding = 0) readonly buffer In { float src[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer Norm { float norm[]; };
layout(std430, binding = 3) writeonly buffer Out { float dst[]; };
layout(push_constant) uniform Push { AudioConvNormParams p; };

const uint kMaxIn = 9 * 128;  // the patch of a 128-channel input
const uint kMaxOut = 512;
shared float tile[kMaxIn];
shared float conv[kMaxOut];
shared float partial[64];

float reduceSum(float v) {
  const uint tid = gl_LocalInvocationID.x;
  partial[tid] = v;
  barrier();
  for (uint s = 32; s > 0; s >>= 1) {
    if (tid < s) partial[tid] += partial[tid + s];
    barrier();
  }
  const float total = partial[0];
  barrier();
  return total;
}

void main() {
  const uint pos = linearGroup();
  if (pos >= p.t_out * p.f_out) return;  // uniform per workgroup
  const uint t = pos / p.f_out, f = pos % p.f_out, tid = gl_LocalInvocationID.x;
  // Stage the patch [dt][df][ci] (zeros outside the input).
  const uint n_tile = 9 * p.c_in;
  for (uint i = tid; i < n_tile; i += 64) {
    const uint ci = i % p.c_in, tap = i / p.c_in;
    const int ti = int(2 * t + tap / 3) - 1, fi = int(2 * f + tap % 3) - 1;
    const bool inside = ti >= 0 && ti < int(p.t_in) && fi >= 0 && fi < int(p.f_in);
    tile[i] = inside ? src[(uint(ti) * p.f_in + uint(fi)) * p.c_in + ci] : 0.0;
  }
  barrier();
  float sum = 0.0;
  for (uint co = tid; co < p.c_out; co += 64) {
    float acc = 0.0;
    for (uint ci = 0; ci < p.c_in; ++ci) {
      const uint wb = (co * p.c_in + ci) * 9;
      for (uint tap = 0; tap < 9; ++tap) acc += w[wb + tap] * tile[tap * p.c_in + ci];
    }
    conv[co] = acc;
    sum += acc;
  }
  const float mean = reduceSum(sum) / float(p.c_out);
  float sq = 0.0;
  for (uint co = tid; co < p.c_out; co += 64) sq += (conv[co] - mean) * (conv[co] - mean);
  const float inv = inversesqrt(reduceSum(sq) / float(p.c_out) + p.eps);
  for (uint co = tid; co < p.c_out; co += 64) {
    dst[pos * p.c_out + co] = max((conv[co] - mean) * inv * norm[co], 0.0);
  }
}
