// What the product kernels share (layer: host/ops, internal to matmul.cpp, matmul_coopmat.cpp and
// matmul_int8.cpp):
// their pipeline layout and the one-dispatch-per-weight-chunk loop.
#pragma once
#include <array>

#include "host/device/weight_matrix.h"
#include "host/ops/matmul.h"
#include "host/ops/op_context.h"
#include "shaders/shader_table.h"

namespace vkg {

// The pipeline of a product shader: bindings x, y, x texels (up_storage: the X_GELU_MUL variant's up
// vector, a storage buffer), weight data and, for the quantized types, scales.
// end_block: the END_BLOCK variant's layout (bindings 0-4 always, 5-11 and EndBlockParams after
// MatMulParams; host/ops/matmul.h BlockEnd).
const vk::ComputePipeline& MatMulPipeline(OpContext& ctx, shaders::ShaderId shader, bool quantized,
                                          const vk::SpecConstants& spec, bool up_storage = false,
                                          bool end_block = false);

// One dispatch per weight chunk, each writing its rows of y, described by:
struct MatMulDispatch {
  std::array<vk::Binding, 3> inputs;  // bindings 0-2 of the shader (x, y, x texels or their stand-ins)
  uint32_t m_tokens = 1;              // rows of x (MatMulParams m_tokens)
  // Workgroups: ceil(chunk rows / rows_per_workgroup) x token_groups, as MatMulParams row_groups/groups.
  uint32_t rows_per_workgroup = 1;
  uint64_t token_groups = 1;
  float softcap = 0.f;   // MatMulOptions::softcap
  uint64_t x_bytes = 0;  // input bytes each dispatch reads (the profile's bytes read)
  // The GELU_PAIRS variant over a single chunk of 2n rows: n outputs, up rows n further than gate rows.
  bool gelu_pairs = false;
  uint32_t column_groups = 1;     // grid z: the decode kernels' batched columns (batched decode rows)
  const BlockEnd* end = nullptr;  // the END_BLOCK variant's block end (one chunk)
};
void DispatchMatMulChunks(OpContext& ctx, const WeightMatrix& w, const vk::ComputePipeline& pipeline,
                          const MatMulDispatch& d);

}  // namespace vkg
