// KV cache allocation (layer: host/device).
#include "host/device/kv_cache.h"

#include <algorithm>

#include "vk/check.h"

namespace vkg {

bool IsKvCacheDType(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::Q8_0 || t == DType::Q4_0; }

uint64_t KvBufferBytes(DType t, uint64_t n, uint32_t head_dim) {
  if (t != DType::Q8_0 && t != DType::Q4_0) return DTypeBytes(t, n);
  const uint64_t quant_bytes = t == DType::Q8_0 ? n : n / 2;
  const uint64_t scales = n / KvQuantBlock(head_dim);
  return quant_bytes + (scales + 1) / 2 * 4;
}

std::vector<uint8_t> EncodeKvQuantized(DType t, std::span<const float> x, uint32_t head_dim) {
  VKG_CHECK(t == DType::Q8_0 || t == DType::Q4_0, "EncodeKvQuantized: q8_0 or q4_0, not ", DTypeName(t));
  const size_t n = x.size(), qb = KvQuantBlock(head_dim);
  VKG_CHECK(head_dim % 16 == 0 && n % head_dim == 0, "EncodeKvQuantized: ", n, " values are not whole heads of ",
            head_dim);
  std::vector<uint8_t> out(KvBufferBytes(t, n, head_dim), 0);
  const size_t quant_bytes = t == DType::Q8_0 ? n : n / 2;
  float block[32];
  for (size_t b = 0; b * qb < n; ++b) {
    std::fill(block, block + 32, 0.f);  // a 16-value block: the 32-value quantizer on it and 16 zeros
    std::copy_n(x.data() + b * qb, qb, block);
    uint16_t d = 0;
    if (t == DType::Q8_0) {
      const Q8Block q = QuantizeQ8Block(block);
      d = q.d;
      for (size_t i = 0; i < qb; ++i) out[b * qb + i] = uint8_t(q.q[i]);
    } else {
      const Q4Block q = QuantizeQ4Block(block);
      d = q.d;
      for (size_t i = 0; i < qb; i += 2) out[(b * qb + i) / 2] = uint8_t(q.q[i] | (q.q[i + 1] << 4));
    }
    out[quant_bytes + 2 * b] = uint8_t(d & 0xff);  // little-endian f16, block b at half b of the plane
    out[quant_bytes + 2 * b + 1] = uint8_t(d >> 8);
  }
  return out;
}

uint32_t KvCache::Slots(const LayerInfo& li, uint32_t context, uint32_t batch) {
  if (li.full) return context;
  return std::min<uint32_t>(context, uint32_t(li.window) + batch - 1);
}

uint64_t KvCache::Bytes(const ModelConfig& config, uint32_t context, uint32_t batch, DType dtype) {
  uint64_t total = 0;
  for (size_t l = 0; l < config.layers.size(); ++l) {
    const LayerInfo& li = config.layers[l];
    if (!li.owns_kv(int(l))) continue;
    total += 2 * KvBufferBytes(dtype, uint64_t(Slots(li, context, batch)) * li.n_kv_heads * li.head_dim,
                               uint32_t(li.head_dim));
  }
  return total;
}

uint64_t KvCache::BytesPerContextToken(const ModelConfig& config, DType dtype) {
  uint64_t total = 0;
  for (size_t l = 0; l < config.layers.size(); ++l) {
    const LayerInfo& li = config.layers[l];
    if (!li.owns_kv(int(l)) || !li.full) continue;
    const uint64_t row = uint64_t(li.n_kv_heads) * li.head_dim;
    // Quantized: the row's quants and its f16 scales (rows pack their scales back to back).
    total += 2 * (dtype == DType::Q8_0   ? row + row / KvQuantBlock(uint32_t(li.head_dim)) * 2
                  : dtype == DType::Q4_0 ? row / 2 + row / KvQuantBlock(uint32_t(li.head_dim)) * 2
                                         : DTypeBytes(dtype, row));
  }
  return total;
}

KvCache::KvCache(const ModelConfig& config, vk::BlockAllocator& alloc, uint32_t context, uint32_t batch, DType dtype)
    : context_(context), dtype_(dtype) {
  VKG_CHECK(IsKvCacheDType(dtype), "KV cache dtype must be f32, f16, q8_0 or q4_0");
  layers_.resize(config.layers.size());
  for (size_t l = 0; l < config.layers.size(); ++l) {
    const LayerInfo& li = config.layers[l];
    if (!li.owns_kv(int(l))) continue;
    const uint32_t slots = Slots(li, context, batch), row = uint32_t(li.n_kv_heads * li.head_dim);
    VKG_CHECK(!IsQuantized(dtype) || li.head_dim % 16 == 0, "a ", DTypeName(dtype),
              " KV cache needs head_dim a multiple of 16; layer ", l, " has ", li.head_dim);
    const uint64_t bytes = KvBufferBytes(dtype, uint64_t(slots) * row, uint32_t(li.head_dim));
    layers_[l].k = Tensor{alloc.Allocate(bytes), dtype, slots, row};
    layers_[l].v = Tensor{alloc.Allocate(bytes), dtype, slots, row};
    bytes_ += 2 * bytes;
  }
}

}  // namespace vkg
