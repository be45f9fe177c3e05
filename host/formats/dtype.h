// Element types and CPU-side conversions (layer: host/model, CPU only).
// These are the storage formats of weights: on disk (safetensors) and on the device.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace vkg {

enum class DType : uint32_t {
  F32 = 0, F16 = 1, BF16 = 2, Q8_0 = 3, Q4_0 = 4, Q4_K = 5, Q5_K = 6, Q6_K = 7,
  Q4_1 = 8, Q5_0 = 9, Q5_1 = 10, Q2_K = 11, Q3_K = 12,
};

// Block-quantized formats: q8_0 / q4_0 hold 32 weights per block with one f16 scale per block;
// the K-quants (ggml's Q4_K, Q5_K, Q6_K; codecs in host/formats/kquant_blocks.h) super-blocks of 256;
// ggml's Q4_1, Q5_0, Q5_1 (blocks of 32) and Q2_K, Q3_K (256) in host/formats/more_blocks.h.
inline constexpr int kQuantBlock = 32;
inline constexpr int kKQuantBlock = 256;

std::string_view DTypeName(DType t);
// Parses "f32", "f16", "bf16", "q8_0", "q4_0", "q4_k", "q5_k", "q6_k", "q4_1", "q5_0", "q5_1",
// "q2_k", "q3_k"; false on anything else.
bool ParseDType(std::string_view name, DType* out);
// Block-quantized (q8_0, q4_0 and the K-quants): the device holds a scales view beside the data.
bool IsQuantized(DType t);
bool IsKQuant(DType t);  // Q4_K, Q5_K, Q6_K
// Formats kept as ggml's blocks (quantized to them, GGUF bytes uploaded as stored) and read by the
// kernels' affine-texel path (value = scale * code + bias per 32 values): the K-quants above and
// Q4_1, Q5_0, Q5_1, Q2_K, Q3_K.
bool IsGgmlBlock(DType t);
// Values per block: 1 (f32/f16/bf16), 32 (q8_0/q4_0/q4_1/q5_0/q5_1), 256 (K-quants, Q2_K, Q3_K).
uint32_t BlockValues(DType t);
// The device's row length for a [rows][cols] matrix (host/device/weight_matrix.h): cols rounded up to 32
// for every type (whole 16-byte texels for f32/f16/bf16 too, which the kernels' row stride
// row_texels assumes), 256 for the K-quants Q2_K..Q6_K (whole super-blocks).
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
struct Q8Block { uint16_t d; int8_t q[32]; };
struct Q4Block { uint16_t d; uint8_t q[32]; };  // q unpacked here: one 4-bit value per byte
Q8Block QuantizeQ8Block(const float* x);
Q4Block QuantizeQ4Block(const float* x);
void DequantizeQ8Block(const Q8Block& b, float* out);
void DequantizeQ4Block(const Q4Block& b, float* out);

// Rounds a row of n values through dtype t, as the device will see them
// (quantized: n padded with zeros to whole blocks). Used to feed references the same numbers.
std::vector<float> RoundTripThrough(DType t, std::span<const float> x);

}  // namespace vkg
