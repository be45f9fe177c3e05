// Device tensors: non-owning views of activations (layer: host).
#pragma once
#include <cstdint>

#include "host/model/dtype.h"
#include "vk/buffer.h"

namespace vkg {

// A row-major [rows, cols] array in a device buffer slice; f32 unless stated (KV caches may be f16).
struct Tensor {
  vk::BufferSlice slice;
  DType dtype = DType::F32;
  uint32_t rows = 0;
  uint32_t cols = 0;

  uint64_t elements() const { return uint64_t(rows) * cols; }
};

}  // namespace vkg
