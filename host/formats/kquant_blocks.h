// CPU codecs of ggml's K-quant super-blocks (256 values) Q4_K, Q5_K and Q6_K: unpacking and
// packing ggml's bytes, dequantizing, our error-minimising quantizer, and the device encoding of
// host/device/weight_matrix.h (layer: host/formats, CPU only). Written from the formats' definitions:
//   Q4_K (144 bytes): f16 d, f16 dmin, scales[12] (eight 6-bit scales and eight 6-bit mins),
//        qs[128]. Sub-block s (32 values) has sc_s, m_s; value = d*sc_s*q - dmin*m_s, q in 0..15.
//        Byte l of qs[32c .. 32c+31] holds value 64c + l in its low nibble, 64c + 32 + l in its high.
//        scales: s < 4: sc = b[s] & 63, m = b[s+4] & 63; s >= 4: sc = (b[s+4] & 15) | (b[s-4] >> 6) << 4,
//        m = (b[s+4] >> 4) | (b[s] >> 6) << 4.
//   Q5_K (176 bytes): d, dmin, scales[12] as Q4_K, qh[32], qs[128] as Q4_K's low 4 bits;
//        bit s of qh[l] is bit 4 of value 32s + l; q in 0..31.
//   Q6_K (210 bytes): ql[128], qh[64], int8 scales[16] (one per 16 values), f16 d;
//        value = d * sc[v/16] * (q - 32), q in 0..63. For half h (128 values) and l < 32:
//        ql[64h + l] holds v = 128h + l (low nibble) and 128h + 64 + l (high nibble), ql[64h + 32 + l]
//        holds 128h + 32 + l and 128h + 96 + l; qh[32h + l] bits 2k..2k+1 are bits 4-5 of 128h + 32k + l.
#pragma once
#include <cstddef>
#include <cstdint>

#include "host/formats/dtype.h"

namespace vkg {

// A super-block unpacked: codes per value and the per-sub-block scale parameters.
struct KQuantBlock {
  uint16_t d = 0;       // f16 bits
  uint16_t dmin = 0;    // f16 bits (Q4_K, Q5_K)
  uint8_t sc[16] = {};  // Q4_K/Q5_K: 8 six-bit scales; Q6_K: 16 int8 scales (as bytes)
  uint8_t m[8] = {};    // Q4_K/Q5_K: 8 six-bit mins
  uint8_t q[256] = {};  // codes: 0..15 (Q4_K), 0..31 (Q5_K), 0..63 (Q6_K, value code - 32)
};

KQuantBlock UnpackGgmlK(DType t, const uint8_t* block);
void PackGgmlK(DType t, const KQuantBlock& b, uint8_t* block);
// Value i (0..255) of a ggml super-block, decoded straight from its bytes.
float GgmlKElement(DType t, const uint8_t* block, int i);

// out[256] = the values, computed as ggml's dequantizers do: Q4_K/Q5_K (d*sc)*q - (dmin*m),
// Q6_K (d*sc)*(q-32); every product there is exact in f32, so the one rounding is the subtraction
// (Q6_K: the product by q), whatever the order the device takes.
void DequantizeK(DType t, const KQuantBlock& b, float* out);

// Our quantizer (ggml's block format, our own scale choice): per sub-block a search over 21
// candidate scales around the max/min-based one (for Q4_K/Q5_K with the min at min(x, 0)); for each
// candidate the codes are rounded and then scale (and min) are refit by least squares given those
// codes; the candidate with the least squared error wins. The sub-block scales (and mins) are then
// quantized to 6 bits (Q6_K: int8) against f16 super-scales, and the codes re-rounded with the
// final quantized scales. Padding values (zeros) take part like any other value.
KQuantBlock QuantizeK(DType t, const float* x);
// The naive max-based choice (scale = (max - min) / levels, no search or refit), for tests.
KQuantBlock QuantizeKNaive(DType t, const float* x);

// Device layout per super-block (host/device/weight_matrix.h; sizes in the format table,
// host/formats/format_traits.h): data 128 (Q4_K), 160 (Q5_K), 208 (Q6_K) bytes, scales 16 / 16 / 2.
void EncodeKDevice(DType t, const KQuantBlock& b, uint8_t* data, uint8_t* scales);

// The codec entry points of the format table, one super-block of ggml's bytes (144, 176, 210) at a
// time: our quantizer packed as ggml's bytes, and those bytes in the device layout.
void QuantizeKBlock(DType t, const float* x, uint8_t* block);
void EncodeKBlockDevice(DType t, const uint8_t* block, uint8_t* data, uint8_t* scales);

}  // namespace vkg
