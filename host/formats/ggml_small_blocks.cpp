// ggml's Q4_1, Q5_0, Q5_1, Q2_K and Q3_K codecs (layer: host/formats). Layouts: ggml_small_blocks.h.
#include "host/formats/ggml_small_blocks.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "host/error.h"
#include "host/formats/format_traits.h"

namespace vkg {
namespace {

uint16_t Load16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
uint32_t Load32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
void Store16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v);
  p[1] = uint8_t(v >> 8);
}
void Store32(uint8_t* p, uint32_t v) {
  for (int k = 0; k < 4; ++k) p[k] = uint8_t(v >> (8 * k));
}
int Round(float v) { return int(std::lround(v)); }

// Byte offsets of the 32-value formats: (d, m or -1, qh or -1, qs).
struct Small {
  int m, qh, qs;
};
Small SmallLayout(DType t) {
  switch (t) {
    case DType::Q4_1: return {2, -1, 4};
    case DType::Q5_0: return {-1, 2, 6};
    case DType::Q5_1: return {2, 4, 8};
    default: throw Error("not a 32-value ggml block format");
  }
}

// The code (0..15 / 0..31) of value i of a Q4_1 / Q5_0 / Q5_1 block.
int SmallCode(DType t, const uint8_t* p, int i) {
  const Small L = SmallLayout(t);
  int q = i < 16 ? (p[L.qs + i] & 15) : (p[L.qs + i - 16] >> 4);
  if (L.qh >= 0) q |= int((Load32(p + L.qh) >> i) & 1u) << 4;
  return q;
}

// Q3_K's 6-bit scale of sub-block s (0..15), as stored (0..63).
int Q3Scale(const uint8_t* sc, int s) {
  const int lo = s < 8 ? (sc[s] & 15) : (sc[s - 8] >> 4);
  return lo | (((sc[8 + s % 4] >> (2 * (s / 4))) & 3) << 4);
}

// Index into qs (Q2_K / Q3_K) and shift of value v's 2-bit code; l = v's position in its 32.
void CodePlace(int v, int* byte, int* shift) {
  const int h = v / 128, r = v % 128;
  *byte = 32 * h + r % 32;
  *shift = 2 * (r / 32);
}

void QuantizeSmall(DType t, const float* x, uint8_t* p) {
  const Small L = SmallLayout(t);
  std::memset(p, 0, Format(t).file_block_bytes);
  const int top = t == DType::Q4_1 ? 15 : 31;
  int q[32];
  if (t == DType::Q5_0) {  // symmetric: the value of largest magnitude maps to code 0 (-16 d)
    float vmax = 0.f;
    for (int i = 0; i < 32; ++i) {
      if (std::fabs(x[i]) > std::fabs(vmax)) vmax = x[i];
    }
    Store16(p, FloatToHalf(vmax / -16.f));
    const float d = HalfToFloat(Load16(p));
    for (int i = 0; i < 32; ++i) q[i] = d != 0.f ? std::clamp(Round(x[i] / d) + 16, 0, 31) : 16;
  } else {  // affine: value = d q + m, m the block's min
    float lo = x[0], hi = x[0];
    for (int i = 1; i < 32; ++i) {
      lo = std::min(lo, x[i]);
      hi = std::max(hi, x[i]);
    }
    Store16(p, FloatToHalf((hi - lo) / float(top)));
    Store16(p + L.m, FloatToHalf(lo));
    const float d = HalfToFloat(Load16(p)), m = HalfToFloat(Load16(p + L.m));
    for (int i = 0; i < 32; ++i) q[i] = d != 0.f ? std::clamp(Round((x[i] - m) / d), 0, top) : 0;
  }
  uint32_t qh = 0;
  for (int i = 0; i < 32; ++i) {
    p[L.qs + i % 16] = uint8_t(p[L.qs + i % 16] | ((q[i] & 15) << (i < 16 ? 0 : 4)));
    qh |= uint32_t((q[i] >> 4) & 1) << i;
  }
  if (L.qh >= 0) Store32(p + L.qh, qh);
}

void QuantizeQ2K(const float* x, uint8_t* p) {
  std::memset(p, 0, 84);
  float a[16], mn[16], amax = 0.f, mmax = 0.f;
  for (int s = 0; s < 16; ++s) {  // value = a code - mn, code 0..3, mn = -min(x, 0) >= 0
    float lo = 0.f, hi = x[16 * s];
    for (int i = 0; i < 16; ++i) {
      lo = std::min(lo, x[16 * s + i]);
      hi = std::max(hi, x[16 * s + i]);
    }
    a[s] = std::max(0.f, (hi - lo) / 3.f);
    mn[s] = -lo;
    amax = std::max(amax, a[s]);
    mmax = std::max(mmax, mn[s]);
  }
  Store16(p + 80, FloatToHalf(amax / 15.f));
  Store16(p + 82, FloatToHalf(mmax / 15.f));
  const float d = HalfToFloat(Load16(p + 80)), dmin = HalfToFloat(Load16(p + 82));
  for (int s = 0; s < 16; ++s) {
    const int sc = d > 0.f ? std::clamp(Round(a[s] / d), 0, 15) : 0;
    const int m = dmin > 0.f ? std::clamp(Round(mn[s] / dmin), 0, 15) : 0;
    p[s] = uint8_t(sc | (m << 4));
    const float step = d * float(sc), off = dmin * float(m);
    for (int i = 0; i < 16; ++i) {
      const int v = 16 * s + i;
      const int q = step > 0.f ? std::clamp(Round((x[v] + off) / step), 0, 3) : 0;
      int byte, shift;
      CodePlace(v, &byte, &shift);
      p[16 + byte] = uint8_t(p[16 + byte] | (q << shift));
    }
  }
}

void QuantizeQ3K(const float* x, uint8_t* p) {
  std::memset(p, 0, 110);
  float s[16], smax = 0.f;
  for (int j = 0; j < 16; ++j) {  // value = s q, q in -4..3: the largest magnitude maps to -4
    float vmax = 0.f;
    for (int i = 0; i < 16; ++i) {
      if (std::fabs(x[16 * j + i]) > std::fabs(vmax)) vmax = x[16 * j + i];
    }
    s[j] = vmax / -4.f;
    smax = std::max(smax, std::fabs(s[j]));
  }
  Store16(p + 108, FloatToHalf(smax / 32.f));
  const float d = HalfToFloat(Load16(p + 108));
  uint8_t* sc = p + 96;
  for (int j = 0; j < 16; ++j) {
    const int k = d > 0.f ? std::clamp(Round(s[j] / d), -32, 31) : 0;
    const int u = k + 32;  // stored 6-bit
    if (j < 8) {
      sc[j] = uint8_t(sc[j] | (u & 15));
    } else {
      sc[j - 8] = uint8_t(sc[j - 8] | ((u & 15) << 4));
    }
    sc[8 + j % 4] = uint8_t(sc[8 + j % 4] | ((u >> 4) << (2 * (j / 4))));
    const float step = d * float(k);
    for (int i = 0; i < 16; ++i) {
      const int v = 16 * j + i;
      const int q = (step != 0.f ? std::clamp(Round(x[v] / step), -4, 3) : 0) + 4;  // 0..7
      int byte, shift;
      CodePlace(v, &byte, &shift);
      p[32 + byte] = uint8_t(p[32 + byte] | ((q & 3) << shift));
      const int h = v / 128, jj = (v % 128) / 32, l = v % 32;
      p[l] = uint8_t(p[l] | ((q >> 2) << (4 * h + jj)));
    }
  }
}

}  // namespace

float SmallBlockValue(DType t, const uint8_t* p, int i) {
  switch (t) {
    case DType::Q4_1:
    case DType::Q5_1: {
      const float d = HalfToFloat(Load16(p)), m = HalfToFloat(Load16(p + 2));
      return d * float(SmallCode(t, p, i)) + m;
    }
    case DType::Q5_0: return HalfToFloat(Load16(p)) * float(SmallCode(t, p, i) - 16);
    case DType::Q2_K: {
      int byte, shift;
      CodePlace(i, &byte, &shift);
      const int code = (p[16 + byte] >> shift) & 3, s = p[i / 16];
      const float d = HalfToFloat(Load16(p + 80)), dmin = HalfToFloat(Load16(p + 82));
      return (d * float(s & 15)) * float(code) - dmin * float(s >> 4);
    }
    case DType::Q3_K: {
      int byte, shift;
      CodePlace(i, &byte, &shift);
      const int h = i / 128, j = (i % 128) / 32, l = i % 32;
      const int q = ((p[32 + byte] >> shift) & 3) | (((p[l] >> (4 * h + j)) & 1) << 2);
      const float d = HalfToFloat(Load16(p + 108));
      return (d * float(Q3Scale(p + 96, i / 16) - 32)) * float(q - 4);
    }
    default: throw Error("SmallBlockValue: not Q4_1, Q5_0, Q5_1, Q2_K or Q3_K");
  }
}

void QuantizeSmallBlock(DType t, const float* x, uint8_t* block) {
  if (t == DType::Q2_K) return QuantizeQ2K(x, block);
  if (t == DType::Q3_K) return QuantizeQ3K(x, block);
  QuantizeSmall(t, x, block);
}

void EncodeSmallBlockDevice(DType t, const uint8_t* p, uint8_t* data, uint8_t* scales) {
  std::memset(data, 0, Format(t).device_block_bytes);
  std::memset(scales, 0, Format(t).scale_block_bytes);
  if (t == DType::Q2_K || t == DType::Q3_K) {
    const bool q2 = t == DType::Q2_K;
    const uint8_t* qs = p + (q2 ? 16 : 32);
    for (int v = 0; v < 256; ++v) {
      int byte, shift;
      CodePlace(v, &byte, &shift);
      // Texel j = v / 32 of 32 values: one u64 at data[8 j], value i at bits 2i.
      const int i = v % 32, at = 8 * (v / 32) + i / 4;
      data[at] = uint8_t(data[at] | (((qs[byte] >> shift) & 3) << (2 * (i % 4))));
      if (!q2) {  // high bits: one u32 per 32 values at data[64 + 4 j], value i at bit i
        const int h = v / 128, j = (v % 128) / 32, l = v % 32;
        const int hb = (p[l] >> (4 * h + j)) & 1, hat = 64 + 4 * (v / 32) + i / 8;
        data[hat] = uint8_t(data[hat] | (hb << (i % 8)));
      }
    }
    if (q2) {
      std::memcpy(data + 64, p, 16);   // the scale|min bytes, as stored
      std::memcpy(scales, p + 80, 4);  // f16 d, f16 dmin
    } else {
      std::memcpy(data + 96, p + 96, 12);  // the packed 6-bit scales, as stored (4 zero bytes after)
      std::memcpy(scales, p + 108, 2);     // f16 d
    }
    return;
  }
  const Small L = SmallLayout(t);
  for (int i = 0; i < 32; ++i) {  // value i in nibble i: q4_0's texel
    const int q = i < 16 ? (p[L.qs + i] & 15) : (p[L.qs + i - 16] >> 4);
    data[i / 2] = uint8_t(data[i / 2] | (q << (4 * (i % 2))));
  }
  std::memcpy(scales, p, 2);                            // f16 d
  if (L.m >= 0) std::memcpy(scales + 2, p + L.m, 2);    // f16 m (Q5_0: zeros)
  if (L.qh >= 0) std::memcpy(scales + 4, p + L.qh, 4);  // u32 qh
}

}  // namespace vkg
