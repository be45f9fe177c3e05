// CPU codecs of ggml's small block formats (layer: host/formats, CPU only): the 4/5-bit affine
// blocks Q4_1, Q5_0, Q5_1 (32 values) and the 2/3-bit K-quants Q2_K, Q3_K (super-blocks of 256):
// decoding ggml's bytes, a simple quantizer producing them (the generator, op tests, --weights),
// and the device encoding of host/device/weight_matrix.h. Their rows of the format table (sizes,
// flags) are in host/formats/format_traits.h. Written from the formats' definitions (ggml's block_* structs and
// dequantizers), all little-endian:
//   Q4_1 (20 bytes): f16 d, f16 m, qs[16]; value j < 16 in the low nibble of qs[j], j >= 16 in
//        the high nibble of qs[j - 16]; value = d * q + m.
//   Q5_0 (22 bytes): f16 d, u32 qh, qs[16] as Q4_1's; bit j of qh is bit 4 of value j;
//        value = d * (q - 16), q in 0..31.
//   Q5_1 (24 bytes): f16 d, f16 m, u32 qh, qs[16]; value = d * q + m, q in 0..31.
//   Q2_K (84 bytes): scales[16] (sub-block s of 16 values: scale = low nibble, min = high nibble),
//        qs[64], f16 d, f16 dmin. Value v: half h = v / 128, r = v % 128, j = r / 32, l = r % 32:
//        code = (qs[32h + l] >> 2j) & 3; value = (d * sc) * code - dmin * m of sub-block v / 16.
//   Q3_K (110 bytes): hmask[32], qs[64] (2-bit low codes, placed as Q2_K's), scales[12], f16 d.
//        Value v (h, j, l as Q2_K): q = low | hbit << 2, hbit = bit 4h + j of hmask[l];
//        value = d * (sc - 32) * (q - 4), sc the 6-bit scale of sub-block s = v / 16: low 4 bits in
//        scales[s] (s < 8, low nibble) or scales[s - 8] (high nibble), high 2 bits at bits
//        2 (s / 4) of scales[8 + s % 4].
#pragma once
#include <cstddef>
#include <cstdint>

#include "host/formats/dtype.h"

namespace vkg {

// The codec entry points of the format table (host/formats/format_traits.h), one block at a time.
// Value i (0..31, K-quants 0..255) of a ggml block, decoded straight from its bytes, with ggml's
// roundings: every product above is exact in f32, so the value rounds at most once (the + m / - m).
float SmallBlockValue(DType t, const uint8_t* block, int i);
// Our quantizer: per block (Q2_K / Q3_K: per sub-block of 16) the min/max-based scale (and min),
// codes rounded to nearest; the K-quants' sub-block scales then quantized against f16 super-scales
// and the codes re-rounded with them. Simple, not error-minimising.
void QuantizeSmallBlock(DType t, const float* x, uint8_t* block);
// Device layout per block (host/device/weight_matrix.h; sizes in the format table): Q4_1/Q5_0/Q5_1
// 16 data bytes (q4_0's texel) and scales f16 d, f16 m, u32 qh; Q2_K 80 + 4 (d, dmin); Q3_K 112 + 2.
void EncodeSmallBlockDevice(DType t, const uint8_t* block, uint8_t* data, uint8_t* scales);

}  // namespace vkg
