// The table of weight formats (layer: host/formats, CPU only): one row per DType with every fact
// the rest of the engine asks about a format (its names, block and byte sizes, how the kernels
// read it) and its codecs. Adding a format: docs/add-weight-format.md.
//
// The shaders' list of formats (shaders/weight_formats.cmake, VKG_WEIGHT_FORMATS) must name the
// same formats in the same order: host/ops/weight_shader.h checks shader_suffix against it at
// compile time.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "host/formats/dtype.h"
#include "host/formats/ggml_blocks.h"
#include "host/formats/ggml_small_blocks.h"
#include "host/formats/kquant_blocks.h"

namespace vkg {

struct FormatTraits {
  DType dtype;
  std::string_view name;           // "q4_k": --weights, checkpoints, messages
  std::string_view shader_suffix;  // "Q4_K": -DWEIGHT_Q4_K and the ShaderIds <Family>Q4_K
  uint32_t block_values;           // values per block: 1 (f32/f16/bf16), 32, 256
  uint32_t file_block_bytes;       // bytes per block as stored (ggml's / safetensors')
  // The device layout (host/device/weight_matrix.h): data bytes per block, scale-view bytes per
  // block (0: no scales view), and the values per 16-byte texel the kernels step by (VPT in
  // shaders/common/weight_texel.glsl; the K-quant path's logical texel is 32 values).
  uint32_t device_block_bytes;
  uint32_t scale_block_bytes;
  uint32_t texel_values;
  bool quantized;   // block-quantized: the device holds a scales view beside the data
  bool ggml_block;  // kept as ggml's blocks (GGUF bytes uploaded as stored) and read by the
                    // kernels' affine-texel path (WEIGHT_KQUANT: value = scale * code + bias)
  bool kquant;      // ggml's Q4_K, Q5_K, Q6_K (super-blocks with 6/8-bit sub-block scales)
  // The codec, one block at a time (block: file_block_bytes as stored). Its functions serve a
  // family of formats and are called with `codec`: the row's own DType, or that of the format whose
  // bytes and device layout this one shares (its sizes then equal that row's: checked below).
  DType codec;
  void (*quantize)(DType t, const float* x, uint8_t* block);                             // block_values values -> block
  float (*value)(DType t, const uint8_t* block, int i);                                  // value i of a block
  void (*encode_device)(DType t, const uint8_t* block, uint8_t* data, uint8_t* scales);  // -> device

  void Quantize(const float* x, uint8_t* block) const { quantize(codec, x, block); }
  float Value(const uint8_t* block, int i) const { return value(codec, block, i); }
  void EncodeDevice(const uint8_t* block, uint8_t* data, uint8_t* scales) const {
    encode_device(codec, block, data, scales);
  }
};

// Every DType, indexed by its value.
// One row per format, in columns (kept out of clang-format).
// clang-format off
inline constexpr std::array<FormatTraits, kDTypeCount> kFormats = {{
    // dtype       name     suffix   vals file dev scale texel quant  ggml   kquant codec        quantize            value            encode_device
    {DType::F32,  "f32",   "F32",     1,   4,   4,  0,  4,   false, false, false, DType::F32,  QuantizeFloat,      FloatValue,      EncodeFloatDevice},
    {DType::F16,  "f16",   "F16",     1,   2,   2,  0,  8,   false, false, false, DType::F16,  QuantizeFloat,      FloatValue,      EncodeFloatDevice},
    {DType::BF16, "bf16",  "BF16",    1,   2,   2,  0,  8,   false, false, false, DType::BF16, QuantizeFloat,      FloatValue,      EncodeFloatDevice},
    {DType::Q8_0, "q8_0",  "Q8_0",   32,  34,  32,  2, 16,   true,  false, false, DType::Q8_0, QuantizeQ8Q4Block,  Q8Q4BlockValue,  EncodeGgmlQ8Q4Device},
    {DType::Q4_0, "q4_0",  "Q4_0",   32,  18,  16,  2, 32,   true,  false, false, DType::Q4_0, QuantizeQ8Q4Block,  Q8Q4BlockValue,  EncodeGgmlQ8Q4Device},
    {DType::Q4_K, "q4_k",  "Q4_K",  256, 144, 128, 16, 32,   true,  true,  true,  DType::Q4_K, QuantizeKBlock,     GgmlKElement,    EncodeKBlockDevice},
    {DType::Q5_K, "q5_k",  "Q5_K",  256, 176, 160, 16, 32,   true,  true,  true,  DType::Q5_K, QuantizeKBlock,     GgmlKElement,    EncodeKBlockDevice},
    {DType::Q6_K, "q6_k",  "Q6_K",  256, 210, 208,  2, 32,   true,  true,  true,  DType::Q6_K, QuantizeKBlock,     GgmlKElement,    EncodeKBlockDevice},
    {DType::Q4_1, "q4_1",  "Q4_1",   32,  20,  16,  4, 32,   true,  true,  false, DType::Q4_1, QuantizeSmallBlock, SmallBlockValue, EncodeSmallBlockDevice},
    {DType::Q5_0, "q5_0",  "Q5_0",   32,  22,  16,  8, 32,   true,  true,  false, DType::Q5_0, QuantizeSmallBlock, SmallBlockValue, EncodeSmallBlockDevice},
    {DType::Q5_1, "q5_1",  "Q5_1",   32,  24,  16,  8, 32,   true,  true,  false, DType::Q5_1, QuantizeSmallBlock, SmallBlockValue, EncodeSmallBlockDevice},
    {DType::Q2_K, "q2_k",  "Q2_K",  256,  84,  80,  4, 32,   true,  true,  false, DType::Q2_K, QuantizeSmallBlock, SmallBlockValue, EncodeSmallBlockDevice},
    {DType::Q3_K, "q3_k",  "Q3_K",  256, 110, 112,  2, 32,   true,  true,  false, DType::Q3_K, QuantizeSmallBlock, SmallBlockValue, EncodeSmallBlockDevice},
}};
// clang-format on

// Row i describes DType(i) and shares its codec row's sizes and functions; the array's size, kDTypeCount (dtype.h: the last enumerator + 1), makes
// a missing row a compile error (a short initializer list value-initializes the rest: dtype F32).
consteval bool FormatsInDTypeOrder() {
  for (size_t i = 0; i < kFormats.size(); ++i) {
    const FormatTraits& f = kFormats[i];
    if (f.dtype != DType(i) || size_t(f.codec) >= kFormats.size()) return false;
    const FormatTraits& c = kFormats[size_t(f.codec)];
    if (c.block_values != f.block_values || c.file_block_bytes != f.file_block_bytes ||
        c.device_block_bytes != f.device_block_bytes || c.scale_block_bytes != f.scale_block_bytes ||
        c.quantize != f.quantize || c.value != f.value || c.encode_device != f.encode_device) {
      return false;
    }
  }
  return true;
}
static_assert(FormatsInDTypeOrder(),
              "kFormats: row i must describe DType(i), one row per DType, sharing its codec row's sizes and functions");

constexpr const FormatTraits& Format(DType t) { return kFormats[size_t(t)]; }

}  // namespace vkg
