// ggml's q8_0 and q4_0 block layouts, as GGUF files store them (layer: host/formats, CPU only).
//   q8_0 block (34 bytes, 32 values): f16 scale d, then 32 int8 q;   value j = q[j] * d.
//   q4_0 block (18 bytes, 32 values): f16 scale d, then 16 bytes; byte j holds value j in its low
//                nibble and value j + 16 in its high nibble;        value = (nibble - 8) * d.
// Our device layout (weight_matrix.h) differs only in where things sit (scales in their own view,
// q4_0 values paired (2i, 2i+1) per byte); the numbers are the same, and the rounding rules of
// dtype.h's QuantizeQ8Block / QuantizeQ4Block are ggml's, so a block read here and encoded for the
// device holds exactly the file's scale and quants.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "host/formats/dtype.h"

namespace vkg {

inline constexpr size_t kGgmlQ8_0BlockBytes = 34;
inline constexpr size_t kGgmlQ4_0BlockBytes = 18;

// The codec entry points of the format table (host/formats/format_traits.h) for q8_0 / q4_0, one
// block of ggml's bytes at a time: dtype.h's quantizers written as ggml's bytes, value i of a block.
void QuantizeQ8Q4Block(DType t, const float* x, uint8_t* block);
float Q8Q4BlockValue(DType t, const uint8_t* block, int i);

// Value i (counting across blocks) of a tensor's bytes as stored, any format (the format table's
// value codec; f32/f16/bf16 too).
float GgmlBlockElement(DType t, const uint8_t* data, size_t i);

// Moves one ggml q8_0 / q4_0 block (a GGUF file's bytes) into the device layout
// (host/device/weight_matrix.h): q8_0: 32 int8 quants to `data`, f16 d to `scales`; q4_0: 16 bytes, value i
// in nibble i (low first, still q + 8), to `data`, f16 d to `scales`. Every bit is the file's, so a
// block whose scale llama.cpp chose with an importance matrix is kept exactly as well.
void EncodeGgmlQ8Q4Device(DType t, const uint8_t* block, uint8_t* data, uint8_t* scales);

// Encodes n values (whole blocks of the format) as ggml blocks with the format table's quantizer
// (the generator).
std::vector<uint8_t> EncodeGgmlBlocks(DType t, const float* x, size_t n);

}  // namespace vkg
