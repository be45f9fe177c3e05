// Index helpers for 2-D dispatch grids (GLSL include). Host ops lay linear work out with Grid1D:
// x first (at most 65535 groups), then y.
// Include it AFTER the `layout(local_size_x_id = ...) in;` line: glslang binds gl_WorkGroupSize
// where it is used, and before that declaration it is the constant 1.
#ifndef VKG_INDEXING_GLSL
#define VKG_INDEXING_GLSL
uint linearGroup() { return gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x; }
uint linearInvocation() { return linearGroup() * gl_WorkGroupSize.x + gl_LocalInvocationID.x; }
#endif
