// Mixture-of-experts ops: products with the routed experts' rows and the weighted sum of their
// outputs (layer: host/ops). The expert ids stay on the device: nothing is read back to route.
#pragma once
#include <cstdint>

#include "host/device/weight_matrix.h"
#include "host/ops/op_context.h"

namespace vkg {

// For slots s < n_slots (slot s = token s / top_k, choice s % top_k) and r < rows:
//   y[s][r] = sum_k W[ids[s] * rows_per_expert + row_begin + r][k] * x[s / x_div][k]
// W: [E * rows_per_expert][K], any format and any number of row chunks (a stack of E matrices);
// ids: [n_slots] int32 storage slice; x: [n_slots / x_div][K] f32 (x_div = top_k: the slots of a
// token share its row; 1: one row per slot); y: [n_slots][rows] f32.
struct ExpertRows {
  uint32_t rows_per_expert = 0;  // rows of one expert's matrix in the stack W
  uint32_t row_begin = 0;        // the first of each routed expert's rows to multiply
  uint32_t rows = 0;             // how many
  vk::BufferSlice ids;           // [n_slots] int32: the expert of each slot
  uint32_t n_slots = 0;
  uint32_t x_div = 1;  // slots per row of x
};
void MatMulExperts(OpContext& ctx, const WeightMatrix& w, const ExpertRows& e, const Tensor& x, const Tensor& y);

// out[t][i] = sum_j weights[t][j] * expert_out[t * top_k + j][i].
// expert_out: [T * top_k][H]; weights: [T][top_k]; out: [T][H] (all f32).
void MoeCombine(OpContext& ctx, const Tensor& expert_out, const Tensor& weights, const Tensor& out);

}  // namespace vkg
