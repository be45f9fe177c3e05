// K-quant super-block codecs (layer: host/formats). Layouts: kquant_blocks.h.
#include "host/formats/kquant_blocks.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "host/error.h"
#include "host/formats/format_traits.h"

namespace vkg {
namespace {

uint16_t Load16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
void Store16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v);
  p[1] = uint8_t(v >> 8);
}

// Sub-block s's 6-bit scale and min from the 12 packed bytes of Q4_K / Q5_K.
void ScaleMin(const uint8_t* b, int s, uint8_t* sc, uint8_t* m) {
  if (s < 4) {
    *sc = b[s] & 63;
    *m = b[s + 4] & 63;
  } else {
    *sc = uint8_t((b[s + 4] & 15) | ((b[s - 4] >> 6) << 4));
    *m = uint8_t((b[s + 4] >> 4) | ((b[s] >> 6) << 4));
  }
}

void PackScaleMin(const uint8_t sc[8], const uint8_t m[8], uint8_t* b) {
  std::memset(b, 0, 12);
  for (int s = 0; s < 8; ++s) {
    if (s < 4) {
      b[s] = uint8_t(b[s] | sc[s]);
      b[s + 4] = uint8_t(b[s + 4] | m[s]);
    } else {
      b[s + 4] = uint8_t((sc[s] & 15) | ((m[s] & 15) << 4));
      b[s - 4] = uint8_t(b[s - 4] | ((sc[s] >> 4) << 6));
      b[s] = uint8_t(b[s] | ((m[s] >> 4) << 6));
    }
  }
}

int Levels(DType t) { return t == DType::Q4_K ? 15 : 31; }

inline int RoundNearest(float v) { return int(std::lround(v)); }

// Affine sub-block fit value = a * q - mn (q in 0..L, mn >= 0). search: 21 candidate scales
// around (max - min) / L, each refit by least squares given its codes; else the naive choice.
void FitAffine(const float* x, int n, int L, bool search, float* a_out, float* mn_out) {
  float lo = 0.f, hi = -std::numeric_limits<float>::infinity();
  for (int i = 0; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  const float span = hi - lo;
  if (!(span > 0.f)) {  // all values equal lo (<= 0): value = -mn with q = 0
    *a_out = 0.f;
    *mn_out = -lo;
    return;
  }
  if (!search) {
    *a_out = span / float(L);
    *mn_out = -lo;
    return;
  }
  double best_err = std::numeric_limits<double>::infinity();
  for (int c = -10; c <= 10; ++c) {
    const float s0 = span / (float(L) + 0.1f * float(c));
    double sq = 0, sx = 0, sqq = 0, sqx = 0;
    int q[32];
    for (int i = 0; i < n; ++i) {
      q[i] = std::clamp(RoundNearest((x[i] - lo) / s0), 0, L);
      sq += q[i];
      sx += x[i];
      sqq += double(q[i]) * q[i];
      sqx += double(q[i]) * x[i];
    }
    // Least squares of x ~ a q + b, then b <= 0 enforced (the format's min is subtracted).
    const double den = n * sqq - sq * sq;
    double a = den > 0 ? (n * sqx - sq * sx) / den : 0.0;
    double b = (sx - a * sq) / n;
    if (b > 0) {
      b = 0;
      a = sqq > 0 ? sqx / sqq : 0.0;
    }
    if (a < 0) {
      a = 0;
      b = std::min(0.0, sx / n);
    }
    double err = 0;
    for (int i = 0; i < n; ++i) {
      const double e = a * q[i] + b - x[i];
      err += e * e;
    }
    if (err < best_err) {
      best_err = err;
      *a_out = float(a);
      *mn_out = float(-b);
    }
  }
}

// Symmetric sub-block fit value = s * q, q in -32..31 (Q6_K): candidates mapping the value of
// largest magnitude to -32 - c/10 or 31 + c/10, each refit by least squares given its codes.
float FitSymmetric(const float* x, int n, bool search) {
  float vmax = 0.f;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > std::fabs(vmax)) vmax = x[i];
  }
  if (vmax == 0.f) return 0.f;
  if (!search) return vmax / -32.f;
  double best_err = std::numeric_limits<double>::infinity();
  float best = vmax / -32.f;
  for (int side = 0; side < 2; ++side) {
    for (int c = -10; c <= 10; ++c) {
      const float s0 = side == 0 ? vmax / -(32.f + 0.1f * float(c)) : vmax / (31.f + 0.1f * float(c));
      double sqq = 0, sqx = 0;
      int q[16];
      for (int i = 0; i < n; ++i) {
        q[i] = std::clamp(RoundNearest(x[i] / s0), -32, 31);
        sqq += double(q[i]) * q[i];
        sqx += double(q[i]) * x[i];
      }
      const double s = sqq > 0 ? sqx / sqq : 0.0;
      double err = 0;
      for (int i = 0; i < n; ++i) {
        const double e = s * q[i] - x[i];
        err += e * e;
      }
      if (err < best_err) {
        best_err = err;
        best = float(s);
      }
    }
  }
  return best;
}

KQuantBlock Quantize(DType t, const float* x, bool search) {
  KQuantBlock b;
  if (t == DType::Q6_K) {
    float s[16], smax = 0.f;
    for (int j = 0; j < 16; ++j) {
      s[j] = FitSymmetric(x + 16 * j, 16, search);
      smax = std::max(smax, std::fabs(s[j]));
    }
    b.d = FloatToHalf(smax / 127.f);
    const float d = HalfToFloat(b.d);
    for (int j = 0; j < 16; ++j) {
      const int sc = d > 0.f ? std::clamp(RoundNearest(s[j] / d), -128, 127) : 0;
      b.sc[j] = uint8_t(int8_t(sc));
      const float step = d * float(sc);
      for (int i = 0; i < 16; ++i) {
        const int q = step != 0.f ? std::clamp(RoundNearest(x[16 * j + i] / step), -32, 31) : 0;
        b.q[16 * j + i] = uint8_t(q + 32);
      }
    }
    return b;
  }
  if (t != DType::Q4_K && t != DType::Q5_K) throw Error("QuantizeK: not a K-quant type");
  const int L = Levels(t);
  float a[8], mn[8], amax = 0.f, mmax = 0.f;
  for (int j = 0; j < 8; ++j) {
    FitAffine(x + 32 * j, 32, L, search, &a[j], &mn[j]);
    amax = std::max(amax, a[j]);
    mmax = std::max(mmax, mn[j]);
  }
  b.d = FloatToHalf(amax / 63.f);
  b.dmin = FloatToHalf(mmax / 63.f);
  const float d = HalfToFloat(b.d), dmin = HalfToFloat(b.dmin);
  for (int j = 0; j < 8; ++j) {
    b.sc[j] = uint8_t(d > 0.f ? std::clamp(RoundNearest(a[j] / d), 0, 63) : 0);
    b.m[j] = uint8_t(dmin > 0.f ? std::clamp(RoundNearest(mn[j] / dmin), 0, 63) : 0);
    const float step = d * float(b.sc[j]), off = dmin * float(b.m[j]);
    for (int i = 0; i < 32; ++i) {
      const int q = step > 0.f ? std::clamp(RoundNearest((x[32 * j + i] + off) / step), 0, L) : 0;
      b.q[32 * j + i] = uint8_t(q);
    }
  }
  return b;
}

}  // namespace

KQuantBlock UnpackGgmlK(DType t, const uint8_t* p) {
  KQuantBlock b;
  if (t == DType::Q6_K) {
    const uint8_t *ql = p, *qh = p + 128;
    std::memcpy(b.sc, p + 192, 16);
    b.d = Load16(p + 208);
    for (int i = 0; i < 256; ++i) {
      const int h = i / 128, r = i % 128, k = r / 32, l = r % 32;
      const uint8_t byte = ql[64 * h + 32 * (k & 1) + l];
      const int lo = k < 2 ? (byte & 15) : (byte >> 4);
      const int hi = (qh[32 * h + l] >> (2 * k)) & 3;
      b.q[i] = uint8_t(lo | (hi << 4));
    }
    return b;
  }
  b.d = Load16(p);
  b.dmin = Load16(p + 2);
  for (int s = 0; s < 8; ++s) ScaleMin(p + 4, s, &b.sc[s], &b.m[s]);
  const bool q5 = t == DType::Q5_K;
  const uint8_t* qh = p + 16;
  const uint8_t* qs = q5 ? p + 48 : p + 16;
  for (int i = 0; i < 256; ++i) {
    const int s = i / 32, l = i % 32;
    const uint8_t byte = qs[32 * (i / 64) + l];
    int q = (s & 1) ? (byte >> 4) : (byte & 15);
    if (q5) q |= ((qh[l] >> s) & 1) << 4;
    b.q[i] = uint8_t(q);
  }
  return b;
}

void PackGgmlK(DType t, const KQuantBlock& b, uint8_t* p) {
  std::memset(p, 0, Format(t).file_block_bytes);
  if (t == DType::Q6_K) {
    uint8_t *ql = p, *qh = p + 128;
    for (int i = 0; i < 256; ++i) {
      const int h = i / 128, r = i % 128, k = r / 32, l = r % 32;
      uint8_t& byte = ql[64 * h + 32 * (k & 1) + l];
      byte = uint8_t(byte | (k < 2 ? (b.q[i] & 15) : (b.q[i] & 15) << 4));
      qh[32 * h + l] = uint8_t(qh[32 * h + l] | (((b.q[i] >> 4) & 3) << (2 * k)));
    }
    std::memcpy(p + 192, b.sc, 16);
    Store16(p + 208, b.d);
    return;
  }
  Store16(p, b.d);
  Store16(p + 2, b.dmin);
  PackScaleMin(b.sc, b.m, p + 4);
  const bool q5 = t == DType::Q5_K;
  uint8_t* qh = p + 16;
  uint8_t* qs = q5 ? p + 48 : p + 16;
  for (int i = 0; i < 256; ++i) {
    const int s = i / 32, l = i % 32;
    uint8_t& byte = qs[32 * (i / 64) + l];
    byte = uint8_t(byte | ((s & 1) ? (b.q[i] & 15) << 4 : (b.q[i] & 15)));
    if (q5) qh[l] = uint8_t(qh[l] | (((b.q[i] >> 4) & 1) << s));
  }
}

float GgmlKElement(DType t, const uint8_t* p, int i) {
  if (t == DType::Q6_K) {
    const int h = i / 128, r = i % 128, k = r / 32, l = r % 32;
    const uint8_t byte = p[64 * h + 32 * (k & 1) + l];
    const int lo = k < 2 ? (byte & 15) : (byte >> 4);
    const int hi = (p[128 + 32 * h + l] >> (2 * k)) & 3;
    const float d = HalfToFloat(Load16(p + 208));
    return d * float(int8_t(p[192 + i / 16])) * float((lo | (hi << 4)) - 32);
  }
  const int s = i / 32, l = i % 32;
  uint8_t sc, m;
  ScaleMin(p + 4, s, &sc, &m);
  const bool q5 = t == DType::Q5_K;
  const uint8_t byte = p[(q5 ? 48 : 16) + 32 * (i / 64) + l];
  int q = (s & 1) ? (byte >> 4) : (byte & 15);
  if (q5) q |= ((p[16 + l] >> s) & 1) << 4;
  const float d1 = HalfToFloat(Load16(p)) * float(sc), m1 = HalfToFloat(Load16(p + 2)) * float(m);
  return d1 * float(q) - m1;
}

void DequantizeK(DType t, const KQuantBlock& b, float* out) {
  const float d = HalfToFloat(b.d);
  if (t == DType::Q6_K) {
    for (int i = 0; i < 256; ++i) out[i] = d * float(int8_t(b.sc[i / 16])) * float(int(b.q[i]) - 32);
    return;
  }
  const float dmin = HalfToFloat(b.dmin);
  for (int i = 0; i < 256; ++i) {
    const float d1 = d * float(b.sc[i / 32]), m1 = dmin * float(b.m[i / 32]);
    out[i] = d1 * float(b.q[i]) - m1;
  }
}

KQuantBlock QuantizeK(DType t, const float* x) { return Quantize(t, x, true); }
KQuantBlock QuantizeKNaive(DType t, const float* x) { return Quantize(t, x, false); }

void EncodeKDevice(DType t, const KQuantBlock& b, uint8_t* data, uint8_t* scales) {
  // Low 4 bits of every code: 32 values per 16 bytes, value i of a group in nibble i (q4_0's texel).
  for (int i = 0; i < 128; ++i) data[i] = uint8_t((b.q[2 * i] & 15) | ((b.q[2 * i + 1] & 15) << 4));
  if (t == DType::Q6_K) {
    // Bits 4-5: 64 bits per 32 values, value i at bits 2i..2i+1 (little-endian u64 per group).
    for (int g = 0; g < 8; ++g) {
      uint64_t hi = 0;
      for (int i = 0; i < 32; ++i) hi |= uint64_t((b.q[32 * g + i] >> 4) & 3) << (2 * i);
      std::memcpy(data + 128 + 8 * g, &hi, 8);
    }
    std::memcpy(data + 192, b.sc, 16);
    Store16(scales, b.d);
    return;
  }
  if (t == DType::Q5_K) {  // bit 4: one u32 per 32 values, value i at bit i
    for (int g = 0; g < 8; ++g) {
      uint32_t hi = 0;
      for (int i = 0; i < 32; ++i) hi |= uint32_t((b.q[32 * g + i] >> 4) & 1) << i;
      std::memcpy(data + 128 + 4 * g, &hi, 4);
    }
  }
  // Head texel: ggml's first 16 bytes (d, dmin, packed scales and mins).
  Store16(scales, b.d);
  Store16(scales + 2, b.dmin);
  PackScaleMin(b.sc, b.m, scales + 4);
}

void QuantizeKBlock(DType t, const float* x, uint8_t* block) { PackGgmlK(t, QuantizeK(t, x), block); }

void EncodeKBlockDevice(DType t, const uint8_t* block, uint8_t* data, uint8_t* scales) {
  EncodeKDevice(t, UnpackGgmlK(t, block), data, scales);
}

}  // namespace vkg
