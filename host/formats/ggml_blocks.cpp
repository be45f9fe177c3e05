// ggml q8_0 / q4_0 block decoding and encoding (layer: host/formats). Layouts: ggml_blocks.h.
#include "host/formats/ggml_blocks.h"

#include <cstring>
#include <string>

#include "host/error.h"
#include "host/formats/format_traits.h"

namespace vkg {

void QuantizeQ8Q4Block(DType t, const float* x, uint8_t* block) {
  if (t == DType::Q8_0) {
    const Q8Block q = QuantizeQ8Block(x);
    std::memcpy(block, &q.d, 2);
    for (int j = 0; j < 32; ++j) block[2 + j] = uint8_t(q.q[j]);
    return;
  }
  if (t != DType::Q4_0) throw Error("QuantizeQ8Q4Block: not q8_0 / q4_0");
  const Q4Block q = QuantizeQ4Block(x);
  std::memcpy(block, &q.d, 2);
  for (int j = 0; j < 16; ++j) block[2 + j] = uint8_t(q.q[j] | (q.q[j + 16] << 4));
}

float Q8Q4BlockValue(DType t, const uint8_t* b, int j) {
  uint16_t d;
  std::memcpy(&d, b, 2);
  if (t == DType::Q8_0) return float(int8_t(b[2 + j])) * HalfToFloat(d);
  if (t != DType::Q4_0) throw Error("Q8Q4BlockValue: not q8_0 / q4_0");
  const uint8_t byte = b[2 + j % 16];
  const int nibble = j < 16 ? (byte & 0xF) : (byte >> 4);
  return float(nibble - 8) * HalfToFloat(d);
}

float GgmlBlockElement(DType t, const uint8_t* data, size_t i) {
  const FormatTraits& f = Format(t);
  return f.Value(data + i / f.block_values * f.file_block_bytes, int(i % f.block_values));
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
  const FormatTraits& f = Format(t);
  if (!f.quantized) throw Error("EncodeGgmlBlocks: not a ggml block type");
  const size_t bv = f.block_values;
  if (n % bv) throw Error("EncodeGgmlBlocks: " + std::to_string(n) + " values is not whole blocks");
  std::vector<uint8_t> out(n / bv * f.file_block_bytes);
  for (size_t b = 0; b < n / bv; ++b) f.Quantize(x + b * bv, out.data() + b * f.file_block_bytes);
  return out;
}

}  // namespace vkg
