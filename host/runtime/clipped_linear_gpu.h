// The clippable linear of Gemma 4's vision and audio towers on the device (layer: host/runtime):
// y = clamp(W clamp(x, in_min, in_max), out_min, out_max), HF's Gemma4ClippableLinear. Shared by
// GpuVisionTower and GpuAudioTower, which record it the same way.
#pragma once
#include "host/device/tensor.h"
#include "host/device/weight_matrix.h"
#include "host/ops/op_context.h"

namespace vkg {

// A clippable linear: its matrix and the f32 bounds its input and output are clamped to (+-inf
// without use_clipped_linears: no clamp is recorded).
struct GpuClippedLinear {
  WeightMatrix w;
  float in_min, in_max, out_min, out_max;
};

// Records out [rows][w.rows] = clamp(W clamp(in, in), out) for in [rows][w.cols]. The input clamp
// goes into `scratch` (at least rows x in.cols floats) and is recorded only when a bound is finite,
// as is the output clamp (in place). Dispatches: the product, plus one clamp per finite side, each
// after a compute barrier; the caller puts a barrier before anything reads `out`.
void RecordClippedLinear(OpContext& ctx, const GpuClippedLinear& l, const Tensor& in, const Tensor& out,
                         const Tensor& scratch);

}  // namespace vkg
