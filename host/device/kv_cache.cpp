// KV cache allocation (layer: host/device).
#include "host/device/kv_cache.h"

#include <algorithm>

#include "vk/check.h"

namespace vkg {

uint32_t KvCache::Slots(const LayerInfo& li, uint32_t context, uint32_t batch) {
  if (li.full) return context;
  return std::min<uint32_t>(context, uint32_t(li.window) + batch - 1);
}

uint64_t KvCache::Bytes(const ModelConfig& config, uint32_t context, uint32_t batch, DType dtype) {
  uint64_t total = 0;
  for (size_t l = 0; l < config.layers.size(); ++l) {
    const LayerInfo& li = config.layers[l];
    if (!li.owns_kv(int(l))) continue;
    total += 2 * DTypeBytes(dtype, uint64_t(Slots(li, context, batch)) * li.n_kv_heads * li.head_dim);
  }
  return total;
}

uint64_t KvCache::BytesPerContextToken(const ModelConfig& config, DType dtype) {
  uint64_t total = 0;
  for (size_t l = 0; l < config.layers.size(); ++l) {
    const LayerInfo& li = config.layers[l];
    if (li.owns_kv(int(l)) && li.full) total += 2 * DTypeBytes(dtype, uint64_t(li.n_kv_heads) * li.head_dim);
  }
  return total;
}

KvCache::KvCache(const ModelConfig& config, vk::BlockAllocator& alloc, uint32_t context, uint32_t batch, DType dtype)
    : context_(context), dtype_(dtype) {
  VKG_CHECK(dtype == DType::F16 || dtype == DType::F32, "KV cache dtype must be f16 or f32");
  layers_.resize(config.layers.size());
  for (size_t l = 0; l < config.layers.size(); ++l) {
    const LayerInfo& li = config.layers[l];
    if (!li.owns_kv(int(l))) continue;
    const uint32_t slots = Slots(li, context, batch), row = uint32_t(li.n_kv_heads * li.head_dim);
    const uint64_t bytes = DTypeBytes(dtype, uint64_t(slots) * row);
    layers_[l].k = Tensor{alloc.Allocate(bytes), dtype, slots, row};
    layers_[l].v = Tensor{alloc.Allocate(bytes), dtype, slots, row};
    bytes_ += 2 * bytes;
  }
}

}  // namespace vkg
