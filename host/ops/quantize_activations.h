// Int8 activations for the integer-dot products (layer: host/ops): x [M][K] f32 quantized per
// 32-value block (shaders/quantize_activations.comp), once per product input. Products that share
// an input (the stacked q|k|v or gate|up products already are one; a caller with more) can
// quantize it once and pass the same Int8Activations to each MatMulInt8 (host/ops/matmul_int8.h).
#pragma once
#include <cstdint>

#include "host/device/tensor.h"
#include "host/ops/op_context.h"
#include "vk/buffer.h"

namespace vkg {

// Where one quantized [rows][cols] input lives on the device:
//   quants: [rows][blocks][32] int8, value i of a block in byte i (the q8_0 weights' order);
//   scales: [rows][blocks] f32 pairs (d, d * sum of the block's int8), value = q * d.
// blocks = ceil(cols / 32); values past cols are zeros.
struct Int8Activations {
  vk::BufferSlice quants, scales;
  uint32_t rows = 0, cols = 0;
  uint32_t blocks() const { return (cols + 31) / 32; }
};

// Device bytes of a scratch slice that holds any [rows][cols] input with rows <= max_rows and
// cols <= max_cols (quants, then the scales at a 256-byte aligned offset).
uint64_t Int8ActivationsBytes(uint32_t max_rows, uint32_t max_cols);
// The [rows][cols] layout inside such a scratch slice.
Int8Activations Int8ActivationsIn(const vk::BufferSlice& scratch, uint32_t rows, uint32_t cols);

// q = quantize(x) into `out` (whose rows/cols must be x's). One dispatch; the caller puts a
// compute barrier between it and the products that read `out`.
void QuantizeActivations(OpContext& ctx, const Tensor& x, const Int8Activations& out);

}  // namespace vkg
