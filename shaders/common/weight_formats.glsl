// Which decode a weight format's WEIGHT_<FMT> selects (GLSL include; included first by
// weight_texel.glsl and weight_element.glsl). The formats are VKG_WEIGHT_FORMATS of
// shaders/weight_formats.cmake (the format table: host/formats/format_traits.h). A format whose
// device layout is an existing format's (its codec's encode_device writes that layout) aliases that
// format's macro here, e.g.
//   #if defined(WEIGHT_Q8_0X)
//   #define WEIGHT_Q8_0 1
//   #endif
// and needs no other GLSL; a format with a layout of its own adds its texel decode to
// weight_texel.glsl (kquant.glsl for the affine-texel path) and its element decode to
// weight_element.glsl (docs/add-weight-format.md).
#ifndef VKG_WEIGHT_FORMATS_GLSL
#define VKG_WEIGHT_FORMATS_GLSL

#endif
