// ggml q8_0 / q4_0 block decoding and encoding (layer: host/model). Layouts: ggml_blocks.h.
#include "host/formats/ggml_blocks.h"

#include <cstring>

#include "host/error.h"
#include "host/formats/kquant_blocks.h"
#include "host/formats/more_blocks.h"

namespace vkg {

float GgmlBlockElement(DType t, const uint8_t* data, size_t i) {
  if (IsGgmlBlock(t)) {
    const size_t bv = BlockValues(t);
    return GgmlBlockValue(t, data + i / bv * GgmlBlockBytes(t), int(i % bv));
  }
  const size_t block = i / kQuantBlock, j = i % kQuantBlock;
  uint16_t d;
  if (t == DType::Q8_0) {
    const uint8_t* b = data + block * kGgmlQ8_0BlockBytes;
    std::memcpy(&d, b, 2);
    return float(int8_t(b[2 + j])) * HalfToFloat(d);
  }
  if (t == DType::Q4_0) {
    const uint8_t* b = data + block * kGgmlQ4_0BlockBytes;
    std::memcpy(&d, b, 2);
    const uint8_t byte = b[2 + j % 16];
    const int nibble = j < 16 ? (byte & 0xF) : (byte >> 4);
    return float(nibble - 8) * HalfToFloat(d);
  }
  throw Error("GgmlBlockElement: not a ggml block type");
}

void EncodeGgmlQ8Q4Device(DType t, const uint8_t* block, uint8_t* data, uint8_t* scales) {
  std::memcpy(scales, block, 2);  // f16 d
  if (t == DType::Q8_0) {
    std::memcpy(data, block + 2, 32);
    return;
  }
  if (t != DType::Q4_0) throw Error("EncodeGgmlQ8Q4Device: not a q8_0 / q4_0 block");
  // ggml: byte j = value j (low nibble) | value j + 16 (high); ours: byte i = value 2i | value 2i + 1.
  for (int i = 0; i < 16; ++i) {
    const int lo = 2 * i, hi = 2 * i + 1;
    const int q_lo = lo < 16 ? (block[2 + lo] & 15) : (block[2 + lo - 16] >> 4);
    const int q_hi = hi < 16 ? (block[2 + hi] & 15) : (block[2 + hi - 16] >> 4);
    data[i] = uint8_t(q_lo | (q_hi << 4));
  }
}

std::vector<uint8_t> EncodeGgmlBlocks(DType t, const float* x, size_t n) {
  if (IsGgmlBlock(t)) {
    const size_t bv = BlockValues(t);
    if (n % bv) throw Error("EncodeGgmlBlocks: " + std::to_string(n) + " values is not whole blocks");
    std::vector<uint8_t> out(n / bv * GgmlBlockBytes(t));
    for (size_t b = 0; b < n / bv; ++b) QuantizeGgmlBlock(t, x + b * bv, out.data() + b * GgmlBlockBytes(t));
    return out;
  }
  if (n % kQuantBlock) throw Error("EncodeGgmlBlocks: " + std::to_string(n) + " values is not whole blocks");
  std::vector<uint8_t> out;
  for (size_t b = 0; b < n / kQuantBlock; ++b) {
    const float* v = x + b * kQuantBlock;
    if (t == DType::Q8_0) {
      const Q8Block q = QuantizeQ8Block(v);
      out.push_back(uint8_t(q.d));
      out.push_back(uint8_t(q.d >> 8));
      for (int j = 0; j < 32; ++j) out.push_back(uint8_t(q.q[j]));
    } else if (t == DType::Q4_0) {
      const Q4Block q = QuantizeQ4Block(v);
      out.push_back(uint8_t(q.d));
      out.push_back(uint8_t(q.d >> 8));
      for (int j = 0; j < 16; ++j) out.push_back(uint8_t(q.q[j] | (q.q[j + 16] << 4)));
    } else {
      throw Error("EncodeGgmlBlocks: not a ggml block type");
    }
  }
  return out;
}

}  // namespace vkg
