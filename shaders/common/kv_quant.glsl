// Quantized KV cache rows (GLSL include): -D KV_Q8 (q8_0) or -D KV_Q4 (q4_0); nothing otherwise.
// The numbers are ggml's q8_0 / q4_0 (host/formats/dtype.h: QuantizeQ8Block, QuantizeQ4Block):
// blocks of QB values along the head dimension, one f16 scale d each;
//   q8_0: value = q * d, q int8 in [-127, 127], d = max|x| / 127;
//   q4_0: value = (q - 8) * d, q in [0, 15], d = (signed value of largest magnitude) / -8.
// QB = 32 (ggml's block) when head_dim is a multiple of 32, else 16 (the tiny test heads of 16).
// Where they sit (host/device/kv_cache.h), per K or V buffer of N = cache_len * n_kv_heads * head_dim
// values in [cache_len][n_kv_heads][head_dim] order, as 32-bit words:
//   words [0, QW): the quants, value e in byte e (q8_0) or nibble e (q4_0, low nibble first), so a
//                  16-byte load is 16 (q8_0) or 32 (q4_0) consecutive values of one row;
//   words [QW, QW + ceil(N / QB / 2)): the scales, block b in half (b % 2) of word QW + b / 2.
//   QW = N / 4 (q8_0) or N / 8 (q4_0).
// Readers take whole 8-value chunks (one or two words and their block's scale): neighbouring lanes
// read neighbouring words of a row, so a lane group covers whole blocks with coalesced loads.
#ifndef VKG_KV_QUANT_GLSL
#define VKG_KV_QUANT_GLSL

#if defined(KV_Q8) || defined(KV_Q4)
#define KV_QUANT 1

uint kvqBlock(uint head_dim) { return head_dim % 32u == 0u ? 32u : 16u; }

// Words of the quant plane of a buffer of n values.
#ifdef KV_Q8
uint kvqQuantWords(uint n) { return n / 4u; }
#else
uint kvqQuantWords(uint n) { return n / 8u; }
#endif

// Scale of block b from its scale word.
float kvqScale(uint word, uint b) { return unpackHalf2x16(word)[b & 1u]; }

// Four int8 quants of a word, low byte first.
vec4 kvqQ8x4(uint w) {
  const int s = int(w);
  return vec4(bitfieldExtract(s, 0, 8), bitfieldExtract(s, 8, 8), bitfieldExtract(s, 16, 8), bitfieldExtract(s, 24, 8));
}
// Four q4_0 nibbles of a word from nibble `first` on, minus 8.
vec4 kvqQ4x4(uint w, int first) {
  return vec4(bitfieldExtract(w, 4 * first, 4), bitfieldExtract(w, 4 * first + 4, 4),
              bitfieldExtract(w, 4 * first + 8, 4), bitfieldExtract(w, 4 * first + 12, 4)) - 8.0;
}

// Values e .. e + 7 (e a multiple of 8) of the cache held in uint array `words` whose quant plane
// has qw words; block size qb.
#ifdef KV_Q8
#define KVQ_LOAD8(words, e, qw, qb, lo, hi)                                  \
  {                                                                          \
    const uint e_ = (e);                                                     \
    const float d_ = kvqScale(words[(qw) + e_ / (2u * (qb))], e_ / (qb));    \
    lo = kvqQ8x4(words[e_ / 4u]) * d_;                                       \
    hi = kvqQ8x4(words[e_ / 4u + 1u]) * d_;                                  \
  }
// Values e, e + 1 (e even).
#define KVQ_LOAD2(words, e, qw, qb)                                                        \
  (vec2(bitfieldExtract(int(words[(e) / 4u]), int(8u * ((e) % 4u)), 8),                   \
        bitfieldExtract(int(words[(e) / 4u]), int(8u * ((e) % 4u)) + 8, 8)) *              \
   kvqScale(words[(qw) + (e) / (2u * (qb))], (e) / (qb)))
#else
#define KVQ_LOAD8(words, e, qw, qb, lo, hi)                                  \
  {                                                                          \
    const uint e_ = (e);                                                     \
    const float d_ = kvqScale(words[(qw) + e_ / (2u * (qb))], e_ / (qb));    \
    const uint w_ = words[e_ / 8u];                                          \
    lo = kvqQ4x4(w_, 0) * d_;                                                \
    hi = kvqQ4x4(w_, 4) * d_;                                                \
  }
#define KVQ_LOAD2(words, e, qw, qb)                                                                  \
  ((vec2(bitfieldExtract(words[(e) / 8u], int(4u * ((e) % 8u)), 4),                                 \
         bitfieldExtract(words[(e) / 8u], int(4u * ((e) % 8u)) + 4, 4)) - 8.0) *                    \
   kvqScale(words[(qw) + (e) / (2u * (qb))], (e) / (qb)))
#endif

// ggml's rounding (roundf: halves away from zero), as host/formats/dtype.cpp's RoundHalfAway.
int kvqRound(float x) { return int(sign(x) * floor(abs(x) + 0.5)); }

// Quantizes the qb values x[0 .. qb) (qb <= 32) into the quant words of block `b` of `words`
// (quant plane of qw words) and its half of the scale word. The scale word is shared with the
// neighbouring block, which another invocation or workgroup may write at the same time: the half
// is replaced with an atomicAnd and an atomicOr (bits of the other half are left alone).
// Needs: `words` declared without writeonly (atomics).
#ifdef KV_Q8
#define KVQ_STORE_BLOCK(words, x, b, qw, qb)                                          \
  {                                                                                   \
    float amax_ = 0.0;                                                                \
    for (uint i_ = 0u; i_ < (qb); ++i_) amax_ = max(amax_, abs(x[i_]));              \
    const uint dh_ = packHalf2x16(vec2(amax_ / 127.0, 0.0)) & 0xffffu;               \
    const float d_ = unpackHalf2x16(dh_).x;                                           \
    const float id_ = d_ != 0.0 ? 1.0 / d_ : 0.0;                                     \
    for (uint w_ = 0u; w_ < (qb) / 4u; ++w_) {                                        \
      uint word_ = 0u;                                                                \
      for (uint c_ = 0u; c_ < 4u; ++c_) {                                             \
        const int q_ = clamp(kvqRound(x[4u * w_ + c_] * id_), -127, 127);             \
        word_ |= (uint(q_) & 0xffu) << (8u * c_);                                     \
      }                                                                               \
      words[(b) * ((qb) / 4u) + w_] = word_;                                          \
    }                                                                                 \
    const uint sw_ = (qw) + (b) / 2u, sh_ = 16u * ((b) & 1u);                         \
    atomicAnd(words[sw_], ~(0xffffu << sh_));                                         \
    atomicOr(words[sw_], dh_ << sh_);                                                 \
  }
#else
#define KVQ_STORE_BLOCK(words, x, b, qw, qb)                                          \
  {                                                                                   \
    float amax_ = 0.0, smax_ = 0.0;                                                   \
    for (uint i_ = 0u; i_ < (qb); ++i_) {                                             \
      if (abs(x[i_]) > amax_) {                                                       \
        amax_ = abs(x[i_]);                                                           \
        smax_ = x[i_];                                                                \
      }                                                                               \
    }                                                                                 \
    const uint dh_ = packHalf2x16(vec2(smax_ / -8.0, 0.0)) & 0xffffu;                \
    const float d_ = unpackHalf2x16(dh_).x;                                           \
    const float id_ = d_ != 0.0 ? 1.0 / d_ : 0.0;                                     \
    for (uint w_ = 0u; w_ < (qb) / 8u; ++w_) {                                        \
      uint word_ = 0u;                                                                \
      for (uint c_ = 0u; c_ < 8u; ++c_) {                                             \
        const int q_ = clamp(kvqRound(x[8u * w_ + c_] * id_) + 8, 0, 15);             \
        word_ |= uint(q_) << (4u * c_);                                               \
      }                                                                               \
      words[(b) * ((qb) / 8u) + w_] = word_;                                          \
    }                                                                                 \
    const uint sw_ = (qw) + (b) / 2u, sh_ = 16u * ((b) & 1u);                         \
    atomicAnd(words[sw_], ~(0xffffu << sh_));                                         \
    atomicOr(words[sw_], dh_ << sh_);                                                 \
  }
#endif

#endif  // KV_Q8 || KV_Q4
#endif
