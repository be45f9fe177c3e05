// The glslangValidator the build compiled the shaders with and the kernel families it could build
// (layer: shaders, data only). Chosen and probed by cmake/glslang.cmake; `vkgemma devices` can say
// why a family a device supports is missing from this build. The same facts are compile-time
// macros VKG_SHADERS_COOPMAT and VKG_SHADERS_INTEGER_DOT (0 or 1) for code that must #if them out.
#pragma once

namespace vkg::shaders {

struct ShaderCompiler {
  const char* path;          // the glslangValidator executable at configure time
  const char* version;       // e.g. "15.2.0"
  bool cooperative_matrix;   // compiled GL_KHR_cooperative_matrix: matrix-unit kernels built
  bool integer_dot_product;  // compiled GL_EXT_integer_dot_product: integer-dot kernels built
};

const ShaderCompiler& Compiler();

}  // namespace vkg::shaders
