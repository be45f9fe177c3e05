// CPU reference of the integer-dot products (layer: host/reference): the int8 quantization of
// activations (shaders/quantize_activations.comp) and the block-wise integer product
// (shaders/matvec_int8.comp, matmul_int8_tiled.comp). Plain loops; the product sums in double.
#pragma once
#include <cstdint>
#include <vector>

namespace vkg::ref {

// An [rows][cols] input quantized per 32-value block (values past cols are zeros):
// q[m][32b + i] = roundEven(x * (127 / amax)) clamped to [-127, 127], d[m][b] = amax * (1 / 127)
// with amax = max |x| over the block (d = 0, q = 0 for an all-zero block), s[m][b] = d * sum q:
// the same float operations as the shader, so d and s agree bit for bit and q agrees except
// where x * (127 / amax) lies within rounding of a half (the device's division may differ by an
// ulp there: q then differs by 1).
struct Int8Activations {
  int rows = 0, cols = 0, blocks = 0;
  std::vector<int8_t> q;    // [rows][blocks * 32]
  std::vector<float> d, s;  // [rows][blocks]
};
Int8Activations QuantizeActivations(const float* x, int rows, int cols);

// A q8_0 / q4_0 weight matrix as integers and block scales: qw [N][blocks * 32] (q4_0: the
// stored nibble minus 8), dw [N][blocks] (the f16 scales as floats).
struct Int8Weights {
  int rows = 0, blocks = 0;
  std::vector<int8_t> q;
  std::vector<float> d;
};

// Y[m][n] = sum_b dw[n][b] * dx[m][b] * sum_i qw[n][32b + i] * qx[m][32b + i] (in double).
void MatMulInt8(const Int8Weights& w, const Int8Activations& x, float* Y);

}  // namespace vkg::ref
