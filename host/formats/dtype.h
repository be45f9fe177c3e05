// Element types and CPU-side conversions (layer: host/formats, CPU only).
// These are the storage formats of weights: on disk (safetensors) and on the device.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace vkg {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  BF16 = 2,
  Q8_0 = 3,
  Q4_0 = 4,
  Q4_K = 5,
  Q5_K = 6,
  Q6_K = 7,
  Q4_1 = 8,
  Q5_0 = 9,
  Q5_1 = 10,
  Q2_K = 11,
  Q3_K = 12,
};
// One more than the last enumerator: the size of the format table (host/formats/format_traits.h),
// which has one row per DType, checked at compile time.
inline constexpr size_t kDTypeCount = size_t(DType::Q3_K) + 1;

// Every fact about a format (names, block and byte sizes, flags, codecs) is a row of the format
// table, host/formats/format_traits.h; the functions below read it.
inline constexpr int kQuantBlock = 32;    // values per block of q8_0, q4_0, q4_1, q5_0, q5_1
inline constexpr int kKQuantBlock = 256;  // values per K-quant super-block

std::string_view DTypeName(DType t);  // the table's name: "f32", "q4_k", ...
// The DType whose table name is `name`; false on anything else.
bool ParseDType(std::string_view name, DType* out);
// Block-quantized: the device holds a scales view beside the data.
bool IsQuantized(DType t);
bool IsKQuant(DType t);  // ggml's Q4_K, Q5_K, Q6_K
// Formats kept as ggml's blocks (quantized to them, GGUF bytes uploaded as stored) and read by the
// kernels' affine-texel path (value = scale * code + bias per 32 values).
bool IsGgmlBlock(DType t);
// Values per block: 1 (f32/f16/bf16), 32 or 256.
uint32_t BlockValues(DType t);
// The device's row length for a [rows][cols] matrix (host/device/weight_matrix.h): cols rounded up to
// whole blocks and to at least 32 for every type (whole 16-byte texels for f32/f16/bf16 too, which
// the kernels' row stride row_texels assumes).
inline uint32_t PaddedCols(DType t, uint32_t cols) {
  const uint32_t unit = BlockValues(t) > 32u ? BlockValues(t) : 32u;
  return (cols + unit - 1) / unit * unit;
}
// Bytes for n elements as stored compactly (quantized: n must be whole blocks; includes the
// scales), as ggml stores them.
size_t DTypeBytes(DType t, size_t n);

// ---- scalar conversions (round to nearest even, as PyTorch does) ----
uint16_t FloatToHalf(float f);
float HalfToFloat(uint16_t h);
uint16_t FloatToBf16(float f);
inline float Bf16ToFloat(uint16_t b) {
  uint32_t u = uint32_t(b) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}
inline float RoundTripHalf(float f) { return HalfToFloat(FloatToHalf(f)); }
inline float RoundTripBf16(float f) { return Bf16ToFloat(FloatToBf16(f)); }

// ---- block quantization, one block of 32 values ----
// q8_0: d = max|x| / 127, q = round(x / d) in [-127, 127], value = q * d.
// q4_0: d = (signed value of largest magnitude) / -8, q = clamp(round(x / d) + 8, 0, 15),
//       value = (q - 8) * d. Scales are stored as f16 and the quants use the rounded scale.
struct Q8Block {
  uint16_t d;
  int8_t q[32];
};
struct Q4Block {
  uint16_t d;
  uint8_t q[32];
};  // q unpacked here: one 4-bit value per byte
Q8Block QuantizeQ8Block(const float* x);
Q4Block QuantizeQ4Block(const float* x);
void DequantizeQ8Block(const Q8Block& b, float* out);
void DequantizeQ4Block(const Q4Block& b, float* out);

// The f32 / f16 / bf16 rows of the format table: a "block" is one value, stored as the device
// holds it (f32 bits, f16 or bf16 bits, round to nearest even).
void QuantizeFloat(DType t, const float* x, uint8_t* value);
float FloatValue(DType t, const uint8_t* block, int i);
void EncodeFloatDevice(DType t, const uint8_t* value, uint8_t* data, uint8_t* scales);

// Rounds a row of n values through dtype t, as the device will see them
// (quantized: n padded with zeros to whole blocks). Used to feed references the same numbers.
std::vector<float> RoundTripThrough(DType t, std::span<const float> x);

// KV cache formats (host/device/kv_cache.h): q8_0 / q4_0 blocks lie along the head dimension, of
// ggml's 32 values when head_dim is a multiple of 32, else 16 (the tiny test heads).
inline uint32_t KvQuantBlock(uint32_t head_dim) { return head_dim % 32 == 0 ? 32 : 16; }
// Rounds n values (whole heads of head_dim) in place to what a KV cache of format t holds:
// f32 unchanged, f16 round to nearest even, q8_0 / q4_0 ggml's block rounding per KvQuantBlock
// values (a 16-value block is the 32-value quantizer on the values and 16 zeros: same scale,
// same quants).
// hadamard: rotate each head by the orthonormal Walsh-Hadamard transform before quantizing and
// back after (llama.cpp's KV rotation; head_dim a power of two). Measured, not shipped: see README
// "KV cache formats" (tools/kv_rotation measures it).
void RoundTripKv(DType t, float* x, size_t n, uint32_t head_dim, bool hadamard = false);
// x[0 .. n) <- H x / sqrt(n), n a power of two: orthonormal and its own inverse.
void HadamardRotate(float* x, size_t n);

}  // namespace vkg
