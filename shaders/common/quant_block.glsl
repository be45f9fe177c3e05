// Int8 activations written by the kernel that produces them (GLSL include): the block quantization
// of quantize_activations.comp, with the same float operations, for a row held as vec4 by a
// workgroup whose invocation lid holds the row's vec4 number lid + k * S (S a multiple of 8): the 8
// vec4 of a 32-value block are in 8 neighbouring invocations. Block maximum and quant sum go
// through shared memory. Every invocation of the workgroup must call quantStore the same number of
// times (it has barriers). Bindings QUANT_Q_BINDING (Q, default 5) and QUANT_S_BINDING (S, default
// 6) are declared here.
//   Q [rows][blocks][8] uint: value j of a block in byte j % 4 of uint j / 4;  S [rows][blocks] vec2 (d, d * sum q)
#ifndef VKG_QUANT_BLOCK_GLSL
#define VKG_QUANT_BLOCK_GLSL

#ifndef QUANT_Q_BINDING
#define QUANT_Q_BINDING 5
#define QUANT_S_BINDING 6
#endif
layout(std430, binding = QUANT_Q_BINDING) writeonly buffer QuantQ { uint quant_q[]; };
layout(std430, binding = QUANT_S_BINDING) writeonly buffer QuantS { vec2 quant_s[]; };
shared float quant_amax[gl_WorkGroupSize.x];
shared int quant_sum[gl_WorkGroupSize.x];

// v: vec4 number i of row `row` (zeros past the row), blocks: 32-value blocks per row. Writes
// word i of the row's quants (i < blocks * 8) and, from the block's first invocation, its scales.
void quantStore(uint row, uint i, vec4 v, uint blocks) {
  const uint lid = gl_LocalInvocationID.x, first = lid & ~7u;
  const vec4 av = abs(v);
  quant_amax[lid] = max(max(av.x, av.y), max(av.z, av.w));
  barrier();
  float amax = 0.0;
  for (uint j = 0; j < 8u; ++j) amax = max(amax, quant_amax[first + j]);
  const float d = amax * (1.0 / 127.0);
  const float inv = amax > 0.0 ? 127.0 / amax : 0.0;
  const ivec4 q = clamp(ivec4(roundEven(v * inv)), ivec4(-127), ivec4(127));
  quant_sum[lid] = q.x + q.y + q.z + q.w;
  const bool inside = i < blocks * 8u;
  if (inside) {
    quant_q[row * blocks * 8u + i] =
        (uint(q.x) & 0xFFu) | ((uint(q.y) & 0xFFu) << 8) | ((uint(q.z) & 0xFFu) << 16) | (uint(q.w) << 24);
  }
  barrier();
  if (inside && lid == first) {
    int sum = 0;
    for (uint j = 0; j < 8u; ++j) sum += quant_sum[first + j];
    quant_s[row * blocks + i / 8u] = vec2(d, d * float(sum));
  }
  barrier();  // the next call overwrites the shared words
}

#endif
