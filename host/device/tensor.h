// Device tensors: non-owning views of activations (layer: host/device).
#pragma once
#include <cstdint>

#include "host/formats/dtype.h"
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

// The first rows * cols elements of t, seen as [rows, cols] (e.g. T tokens of a batch-sized buffer).
inline Tensor View(const Tensor& t, uint32_t rows, uint32_t cols) {
  return Tensor{t.slice.Sub(0, DTypeBytes(t.dtype, uint64_t(rows) * cols)), t.dtype, rows, cols};
}

// Rows [row0, row0 + n) of t, seen as [n][cols] (a group of a step's rows, one sequence's rows).
inline Tensor RowRange(const Tensor& t, uint32_t row0, uint32_t n, uint32_t cols) {
  return Tensor{t.slice.Sub(DTypeBytes(t.dtype, uint64_t(row0) * cols), DTypeBytes(t.dtype, uint64_t(n) * cols)),
                t.dtype, n, cols};
}

}  // namespace vkg
