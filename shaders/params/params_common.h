/* Shared by GLSL and C++: lets one params header declare a push-constant struct for both sides.
   Rules: only 4-byte scalars (uint, int, float): no vec3, no bool, so std430 and C++ agree. */
#ifndef VKG_PARAMS_COMMON_H
#define VKG_PARAMS_COMMON_H
#ifdef __cplusplus
#include <cstdint>
#define VKG_PARAMS_BEGIN   \
  namespace vkg::shaders { \
  using uint = std::uint32_t;
#define VKG_PARAMS_END }
#define VKG_PARAMS_CHECK(T, bytes) \
  static_assert(sizeof(vkg::shaders::T) == (bytes) && (bytes) <= 128, #T " layout changed");
#else
#define VKG_PARAMS_BEGIN
#define VKG_PARAMS_END
#define VKG_PARAMS_CHECK(T, bytes)
#endif
#endif
