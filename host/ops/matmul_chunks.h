// What the product kernels share (layer: host/ops, internal to matmul.cpp, matmul_coopmat.cpp and
// matmul_int8.cpp):
// their pipeline layout and the one-dispatch-per-weight-chunk loop.
#pragma once
#include <initializer_list>

#include "host/ops/op_context.h"
#include "host/device/weight_matrix.h"
#include "shaders/shader_table.h"

namespace vkg {

// The pipeline of a product shader: bindings x, y, x texels (up_storage: the X_GELU_MUL variant's up
// vector, a storage buffer), weight data and, for the quantized types, scales.
const vk::ComputePipeline& MatMulPipeline(OpContext& ctx, shaders::ShaderId shader, bool quantized,
                                          const vk::SpecConstants& spec, bool up_storage = false);

// One dispatch per weight chunk, each writing its rows of y. `inputs`: bindings 0-2 of the shader;
// x_bytes: the input bytes each dispatch reads (for the profile's bytes read). gelu_pairs: the
// GELU_PAIRS variant over a single chunk of 2n rows: n outputs, up rows n further than gate rows.
// Workgroups: ceil(chunk rows / rows_per_workgroup) x token_groups, as MatMulParams row_groups/groups;
// column_groups: grid z of the decode kernels' batched columns (batched decode rows).
void DispatchMatMulChunks(OpContext& ctx, const WeightMatrix& w, const vk::ComputePipeline& pipeline,
                          std::initializer_list<vk::Binding> inputs, uint32_t m_tokens, uint32_t rows_per_workgroup,
                          uint64_t token_groups, float softcap, uint64_t x_bytes, bool gelu_pairs = false,
                          uint32_t column_groups = 1);

}  // namespace vkg
