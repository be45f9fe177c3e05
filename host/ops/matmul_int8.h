// Integer-dot matrix products: q8_0 / q4_0 weights as stored times int8 activations
// (layer: host/ops). Decode (M = 1): shaders/matvec_int8.comp; prefill (M > 1):
// shaders/matmul_int8_tiled.comp; both sum each 32-value block exactly in int32 with
// dotPacked4x8EXT and scale it in f32. The activations come quantized per block
// (host/ops/quantize_activations.h), which costs accuracy: about 0.4% relative error per output
// for random inputs (1/127 of a block's largest value, rounded), against the float products' f32
// rounding alone; tests/ops/matmul_int8_test.cpp states the tolerances.
//
// Taken only in the GPU kernel family, only when the shader compiler had GL_EXT_integer_dot_product
// (VKG_SHADERS_INTEGER_DOT) and the device enabled shaderIntegerDotProduct, per
// KernelFeatures::integer_dot: kAuto where the device accelerates 4x8-bit packed dot products,
// kForce wherever it has the feature (lavapipe, for the tests), kOff never. MatMul and
// MatVecGeluPairs take it by themselves when given an int8 scratch (MatMulOptions::int8_scratch).
// The decode gate|up product keeps its gelu fusion (matvec_int8.comp GELU_PAIRS); the
// per-layer-input projection fused with gelu * up on its input (MatVecGeluMul, X_GELU_MUL: K = 256,
// 1536 x 256 at E2B) stays on the float kernel, which computes its input as it reads it.
#pragma once
#include "host/device/tensor.h"
#include "host/device/weight_matrix.h"
#include "host/ops/matmul.h"
#include "host/ops/op_context.h"
#include "host/ops/quantize_activations.h"

namespace vkg {

// True where products with weights of type t run on int8 activations in this context (the rule
// above). `vkgemma devices` / `bench --json` name the kernel family from it.
bool UsesIntegerDot(const OpContext& ctx, DType t);
// The same rule for a device description (what `vkgemma devices` and bench report).
bool UsesIntegerDot(const vk::DeviceCaps& caps, KernelFamily kernels, const KernelFeatures& features, DType t);

// y[m][n] = sum over blocks b of dw[n][b] dx[m][b] sum_i qw[n][32b+i] qx[m][32b+i]: w [N][K] q8_0 or
// q4_0 (any number of row chunks), x the int8 activations of an [M][K] input, y [M][N] f32.
// options: softcap, decode_rows_per_subgroup / decode_subgroups (tests force every geometry).
// Requires UsesIntegerDot-capable context (throws otherwise: no fallback inside).
void MatMulInt8(OpContext& ctx, const WeightMatrix& w, const Int8Activations& x, const Tensor& y,
                const MatMulOptions& options = {});

// The decode product followed by a block end in one dispatch (matvec_int8.comp END_BLOCK;
// host/ops/matmul.h MatVecEndBlock, which calls it): x int8 [1][K], y [1][N].
bool MatVecInt8EndBlockApplies(const OpContext& ctx, const WeightMatrix& w);
void MatVecInt8EndBlock(OpContext& ctx, const WeightMatrix& w, const Int8Activations& x, const Tensor& y,
                        const BlockEnd& end);

// act[j] = gelu_tanh(gate row j . x) * (up row j . x) for ONE token, gate_up the [gate | up] stack
// [N][K] in a single chunk (MatVecGeluPairs's contract), x int8 [1][K], act [1][N / 2].
void MatVecInt8GeluPairs(OpContext& ctx, const WeightMatrix& gate_up, const Int8Activations& x, const Tensor& act,
                         const MatMulOptions& options = {});

}  // namespace vkg
