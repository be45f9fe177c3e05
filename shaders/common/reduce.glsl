// Workgroup reductions built on subgroup arithmetic (GLSL include). Subgroups reduce in registers;
// only when a workgroup holds several subgroups do partial sums go through shared memory.
// Requires: GL_KHR_shader_subgroup_arithmetic; every invocation of the workgroup must call.
#ifndef VKG_REDUCE_GLSL
#define VKG_REDUCE_GLSL

#define VKG_MAX_SUBGROUPS 64
shared float vkg_partials[VKG_MAX_SUBGROUPS];

float workgroupSum(float v) {
  v = subgroupAdd(v);
  if (gl_NumSubgroups == 1) return v;
  barrier();  // protects vkg_partials from a previous call
  if (subgroupElect()) vkg_partials[gl_SubgroupID] = v;
  barrier();
  float total = 0.0;
  for (uint i = 0; i < gl_NumSubgroups; ++i) total += vkg_partials[i];
  return total;
}

float workgroupMax(float v) {
  v = subgroupMax(v);
  if (gl_NumSubgroups == 1) return v;
  barrier();
  if (subgroupElect()) vkg_partials[gl_SubgroupID] = v;
  barrier();
  float m = vkg_partials[0];
  for (uint i = 1; i < gl_NumSubgroups; ++i) m = max(m, vkg_partials[i]);
  return m;
}

#endif
