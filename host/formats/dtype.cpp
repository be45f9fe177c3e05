// Element types and CPU conversions (layer: host/formats).
#include "host/formats/dtype.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "host/formats/format_traits.h"

namespace vkg {

std::string_view DTypeName(DType t) { return size_t(t) < kFormats.size() ? Format(t).name : "?"; }

bool ParseDType(std::string_view name, DType* out) {
  for (const FormatTraits& f : kFormats) {
    if (name == f.name) {
      *out = f.dtype;
      return true;
    }
  }
  return false;
}

bool IsQuantized(DType t) { return Format(t).quantized; }
bool IsGgmlBlock(DType t) { return Format(t).ggml_block; }
bool IsKQuant(DType t) { return Format(t).kquant; }
uint32_t BlockValues(DType t) { return Format(t).block_values; }

size_t DTypeBytes(DType t, size_t n) { return n / Format(t).block_values * Format(t).file_block_bytes; }

uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t exp = (x >> 23) & 0xffu;
  uint32_t mant = x & 0x7fffffu;
  if (exp == 0xff) return uint16_t(sign | 0x7c00u | (mant ? 0x200u : 0u));  // inf / nan
  int e = int(exp) - 127 + 15;
  if (e >= 31) return uint16_t(sign | 0x7c00u);  // overflow -> inf
  if (e <= 0) {                                  // subnormal or zero
    if (e < -10) return uint16_t(sign);
    mant |= 0x800000u;
    const int shift = 14 - e;
    uint32_t h = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1u))) ++h;
    return uint16_t(sign | h);
  }
  uint32_t h = (uint32_t(e) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // may carry into the exponent: fine
  return uint16_t(sign | h);
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {  // normalise the subnormal
      exp = 127 - 15 + 1;
      while (!(mant & 0x400u)) {
        mant <<= 1;
        --exp;
      }
      x = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    x = sign | 0x7f800000u | (mant << 13);
  } else {
    x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

uint16_t FloatToBf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40u);  // quiet nan
  x += 0x7fffu + ((x >> 16) & 1u);
  return uint16_t(x >> 16);
}

namespace {
// Round half away from zero (std::lround's rule) without its cost: weight conversion calls this
// for every weight of a model. |v| stays far below 2^31 here (at most 127.5).
inline int RoundHalfAway(float v) { return int(v + (v >= 0.f ? 0.5f : -0.5f)); }
}  // namespace

Q8Block QuantizeQ8Block(const float* x) {
  float amax = 0.f;
  for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[i]));
  Q8Block b{};
  b.d = FloatToHalf(amax / 127.f);
  const float d = HalfToFloat(b.d);
  const float id = d != 0.f ? 1.f / d : 0.f;
  for (int i = 0; i < 32; ++i) {
    b.q[i] = int8_t(std::clamp(RoundHalfAway(x[i] * id), -127, 127));
  }
  return b;
}

Q4Block QuantizeQ4Block(const float* x) {
  float amax = 0.f, signed_max = 0.f;
  for (int i = 0; i < 32; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      signed_max = x[i];
    }
  }
  Q4Block b{};
  b.d = FloatToHalf(signed_max / -8.f);
  const float d = HalfToFloat(b.d);
  const float id = d != 0.f ? 1.f / d : 0.f;
  for (int i = 0; i < 32; ++i) {
    b.q[i] = uint8_t(std::clamp(RoundHalfAway(x[i] * id) + 8, 0, 15));
  }
  return b;
}

void DequantizeQ8Block(const Q8Block& b, float* out) {
  const float d = HalfToFloat(b.d);
  for (int i = 0; i < 32; ++i) out[i] = float(b.q[i]) * d;
}

void DequantizeQ4Block(const Q4Block& b, float* out) {
  const float d = HalfToFloat(b.d);
  for (int i = 0; i < 32; ++i) out[i] = float(int(b.q[i]) - 8) * d;
}

void QuantizeFloat(DType t, const float* x, uint8_t* value) {
  if (t == DType::F32) {
    std::memcpy(value, x, 4);
    return;
  }
  const uint16_t h = t == DType::F16 ? FloatToHalf(*x) : FloatToBf16(*x);
  std::memcpy(value, &h, 2);
}

float FloatValue(DType t, const uint8_t* block, int i) {
  if (t == DType::F32) {
    float f;
    std::memcpy(&f, block + 4 * i, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, block + 2 * i, 2);
  return t == DType::F16 ? HalfToFloat(h) : Bf16ToFloat(h);
}

void EncodeFloatDevice(DType t, const uint8_t* value, uint8_t* data, uint8_t* scales) {
  std::memcpy(data, value, t == DType::F32 ? 4 : 2);
}

std::vector<float> RoundTripThrough(DType t, std::span<const float> x) {
  std::vector<float> out(x.begin(), x.end());
  if (t == DType::F32) return out;
  // Whole blocks (zero-padded; f16 / bf16: single values) through the table's codec and back.
  const FormatTraits& f = Format(t);
  const size_t n = x.size(), bv = f.block_values;
  out.resize((n + bv - 1) / bv * bv, 0.f);
  std::vector<uint8_t> block(f.file_block_bytes);
  for (size_t b = 0; b < out.size(); b += bv) {
    f.Quantize(&out[b], block.data());
    for (size_t i = 0; i < bv; ++i) out[b + i] = f.Value(block.data(), int(i));
  }
  out.resize(n);
  return out;
}

void HadamardRotate(float* x, size_t n) {
  for (size_t h = 1; h < n; h *= 2) {
    for (size_t i = 0; i < n; i += 2 * h) {
      for (size_t j = i; j < i + h; ++j) {
        const float a = x[j], b = x[j + h];
        x[j] = a + b;
        x[j + h] = a - b;
      }
    }
  }
  const float s = 1.f / std::sqrt(float(n));
  for (size_t i = 0; i < n; ++i) x[i] *= s;
}

void RoundTripKv(DType t, float* x, size_t n, uint32_t head_dim, bool hadamard) {
  if (t == DType::F32) return;
  if (hadamard) {
    for (size_t h = 0; h + head_dim <= n; h += head_dim) {
      HadamardRotate(x + h, head_dim);
      RoundTripKv(t, x + h, head_dim, head_dim, false);
      HadamardRotate(x + h, head_dim);
    }
    return;
  }
  if (t != DType::Q8_0 && t != DType::Q4_0) {
    for (size_t i = 0; i < n; ++i) x[i] = RoundTripHalf(x[i]);
    return;
  }
  const size_t qb = KvQuantBlock(head_dim);
  float block[32], out[32];
  for (size_t b = 0; b + qb <= n; b += qb) {
    std::fill(block, block + 32, 0.f);
    std::copy_n(x + b, qb, block);
    if (t == DType::Q8_0) {
      DequantizeQ8Block(QuantizeQ8Block(block), out);
    } else {
      DequantizeQ4Block(QuantizeQ4Block(block), out);
    }
    std::copy_n(out, qb, x + b);
  }
}

}  // namespace vkg
