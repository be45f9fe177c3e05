// Element types and CPU conversions (layer: host/model).
#include "host/formats/dtype.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "host/formats/kquant_blocks.h"
#include "host/formats/more_blocks.h"

namespace vkg {

std::string_view DTypeName(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
    case DType::Q8_0: return "q8_0";
    case DType::Q4_0: return "q4_0";
    case DType::Q4_K: return "q4_k";
    case DType::Q5_K: return "q5_k";
    case DType::Q6_K: return "q6_k";
    case DType::Q4_1: return "q4_1";
    case DType::Q5_0: return "q5_0";
    case DType::Q5_1: return "q5_1";
    case DType::Q2_K: return "q2_k";
    case DType::Q3_K: return "q3_k";
  }
  return "?";
}

bool ParseDType(std::string_view name, DType* out) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q5_K, DType::Q6_K,
                  DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K}) {
    if (name == DTypeName(t)) {
      *out = t;
      return true;
    }
  }
  return false;
}

bool IsQuantized(DType t) { return t == DType::Q8_0 || t == DType::Q4_0 || IsGgmlBlock(t); }
bool IsGgmlBlock(DType t) { return IsKQuant(t) || IsMoreBlock(t); }
bool IsKQuant(DType t) { return t == DType::Q4_K || t == DType::Q5_K || t == DType::Q6_K; }
uint32_t BlockValues(DType t) {
  return IsKQuant(t) || t == DType::Q2_K || t == DType::Q3_K ? kKQuantBlock : IsQuantized(t) ? kQuantBlock : 1;
}

size_t DTypeBytes(DType t, size_t n) {
  switch (t) {
    case DType::F32: return n * 4;
    case DType::F16:
    case DType::BF16: return n * 2;
    case DType::Q8_0: return n / kQuantBlock * (2 + 32);
    case DType::Q4_0: return n / kQuantBlock * (2 + 16);
    case DType::Q4_K: return n / kKQuantBlock * 144;
    case DType::Q5_K: return n / kKQuantBlock * 176;
    case DType::Q6_K: return n / kKQuantBlock * 210;
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1:
    case DType::Q2_K:
    case DType::Q3_K: return n / BlockValues(t) * MoreBlockBytes(t);
  }
  return 0;
}

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

std::vector<float> RoundTripThrough(DType t, std::span<const float> x) {
  std::vector<float> out(x.begin(), x.end());
  switch (t) {
    case DType::F32: break;
    case DType::F16: for (float& v : out) v = RoundTripHalf(v); break;
    case DType::BF16: for (float& v : out) v = RoundTripBf16(v); break;
    case DType::Q8_0:
    case DType::Q4_0: {
      const size_t n = x.size();
      out.resize((n + 31) / 32 * 32, 0.f);
      for (size_t b = 0; b < out.size(); b += 32) {
        if (t == DType::Q8_0) DequantizeQ8Block(QuantizeQ8Block(&out[b]), &out[b]);
        else DequantizeQ4Block(QuantizeQ4Block(&out[b]), &out[b]);
      }
      out.resize(n);
      break;
    }
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K: {
      const size_t n = x.size();
      out.resize((n + kKQuantBlock - 1) / kKQuantBlock * kKQuantBlock, 0.f);
      for (size_t b = 0; b < out.size(); b += kKQuantBlock) DequantizeK(t, QuantizeK(t, &out[b]), &out[b]);
      out.resize(n);
      break;
    }
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1:
    case DType::Q2_K:
    case DType::Q3_K: {
      const size_t n = x.size(), bv = BlockValues(t);
      out.resize((n + bv - 1) / bv * bv, 0.f);
      std::vector<uint8_t> block(MoreBlockBytes(t));
      for (size_t b = 0; b < out.size(); b += bv) {
        QuantizeMoreBlock(t, &out[b], block.data());
        for (size_t i = 0; i < bv; ++i) out[b + i] = MoreBlockElement(t, block.data(), int(i));
      }
      out.resize(n);
      break;
    }
  }
  return out;
}

}  // namespace vkg
