// The KV cache on the device, sized once at load (layer: host/device).
// Only layers that own their K/V allocate (KV-shared layers read their source layer). Per owning
// layer, K and V are [slots][KVH * D] in f16 (default) or f32; position j lives in slot j % slots:
//  * full layers: slots = context length;
//  * sliding layers: a ring of window + batch - 1 slots (capped by the context), enough for every
//    query of a prefill chunk of up to `batch` tokens to see its window (host/ops/kv_write.h).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "host/device/tensor.h"
#include "host/model/config.h"
#include "vk/buffer.h"

namespace vkg {

// The cache formats: f32 (exact), f16, and ggml's q8_0 / q4_0 blocks along the head dimension.
// A quantized K or V buffer holds its quants first (one byte or nibble per value, in value order)
// and then one f16 scale per block, two per 32-bit word (shaders/common/kv_quant.glsl has the
// layout; the numbers are those of host/formats/dtype.h's QuantizeQ8Block / QuantizeQ4Block).
bool IsKvCacheDType(DType t);
// Values per scale: KvQuantBlock(head_dim) (host/formats/dtype.h). Quantized caches need
// head_dim % 16 == 0.
// Bytes of one K or V buffer of n values (whole rows) with heads of head_dim.
uint64_t KvBufferBytes(DType t, uint64_t n, uint32_t head_dim);
// The bytes of a q8_0 / q4_0 K or V buffer holding the n values x (whole heads of head_dim), in
// the layout above, with host/formats/dtype.h's quantizers (tests upload caches with it and check
// the device writers against it).
std::vector<uint8_t> EncodeKvQuantized(DType t, std::span<const float> x, uint32_t head_dim);

class KvCache {
 public:
  KvCache(const ModelConfig& config, vk::BlockAllocator& alloc, uint32_t context, uint32_t batch, DType dtype);

  // Bytes the cache takes for a config, context, batch and dtype (without allocating).
  static uint64_t Bytes(const ModelConfig& config, uint32_t context, uint32_t batch, DType dtype);
  // Bytes one more context position costs (full layers only: sliding rings do not grow).
  static uint64_t BytesPerContextToken(const ModelConfig& config, DType dtype);

  // Slots of a layer's K and V: the context (full layers) or the sliding ring (the selftest sizes
  // its rings with it).
  static uint32_t Slots(const LayerInfo& li, uint32_t context, uint32_t batch);

  const Tensor& k(int layer) const { return layers_[size_t(layer)].k; }  // of the owning layer
  const Tensor& v(int layer) const { return layers_[size_t(layer)].v; }
  uint32_t slots(int layer) const { return layers_[size_t(layer)].k.rows; }
  uint32_t context() const { return context_; }
  DType dtype() const { return dtype_; }
  uint64_t bytes() const { return bytes_; }

 private:
  struct Layer {
    Tensor k, v;  // [slots][KVH * D]; empty for KV-shared layers
  };
  std::vector<Layer> layers_;
  uint32_t context_;
  DType dtype_;
  uint64_t bytes_ = 0;
};

}  // namespace vkg
