// CPU codecs of ggml's other block formats (layer: host/model, CPU only): Q4_1, Q5_0, Q5_1 (blocks
// of 32 values) and the K-quants Q2_K, Q3_K (super-blocks of 256): decoding ggml's bytes, a simple
// quantizer producing them (the generator, op tests, --weights), and the device encoding of
// host/device/weight_matrix.h. Written from the formats' definitions (ggml's block_* structs and
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

bool IsMoreBlock(DType t);          // Q4_1, Q5_0, Q5_1, Q2_K, Q3_K
size_t MoreBlockBytes(DType t);     // ggml's: 20, 22, 24, 84, 110
// Value i (0..31, K-quants 0..255) of a ggml block, decoded straight from its bytes, with ggml's
// roundings: every product above is exact in f32, so the value rounds at most once (the + m / - m).
float MoreBlockElement(DType t, const uint8_t* block, int i);
// Our quantizer: per block (Q2_K / Q3_K: per sub-block of 16) the min/max-based scale (and min),
// codes rounded to nearest; the K-quants' sub-block scales then quantized against f16 super-scales
// and the codes re-rounded with them. Simple, not error-minimising.
void QuantizeMoreBlock(DType t, const float* x, uint8_t* block);

// Device layout per block (host/device/weight_matrix.h): data bytes and scale-view bytes.
size_t MoreDeviceDataBytes(DType t);   // 16 (Q4_1, Q5_0, Q5_1), 80 (Q2_K), 112 (Q3_K)
size_t MoreDeviceScaleBytes(DType t);  // 4 (Q4_1), 8 (Q5_0, Q5_1), 4 (Q2_K), 2 (Q3_K)
void EncodeMoreDevice(DType t, const uint8_t* block, uint8_t* data, uint8_t* scales);

// Every format IsGgmlBlock covers (the K-quants of kquant_blocks.h and the five above), by dtype:
// ggml's bytes per block, value i of a block, our quantizer to ggml's bytes, and the device
// encoding of ggml's bytes (host/device/weight_matrix.h).
size_t GgmlBlockBytes(DType t);
float GgmlBlockValue(DType t, const uint8_t* block, int i);
void QuantizeGgmlBlock(DType t, const float* x, uint8_t* block);
size_t DeviceBlockDataBytes(DType t);
size_t DeviceBlockScaleBytes(DType t);
void EncodeGgmlBlockDevice(DType t, const uint8_t* block, uint8_t* data, uint8_t* scales);

}  // namespace vkg
