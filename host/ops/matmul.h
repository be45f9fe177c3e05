// Matrix products with device weight matrices (layer: host/ops): every linear layer of the model.
#pragma once
#include "host/device/tensor.h"
#include "host/device/weight_matrix.h"
#include "host/ops/op_context.h"
#include "host/ops/quantize_activations.h"

namespace vkg {

// y[m][n] = sum_k x[m][k] * w[n][k], accumulated in f32 whatever w's storage type.
// w: [N][K] (any format of host/formats/format_traits.h, any number of row chunks); x: [M][K] f32; y: [M][N] f32.
// M == 1 runs a decode kernel (shaders/matvec.comp: a subgroup splits K over its lanes, for GPUs;
// shaders/matvec_rows.comp: each invocation owns whole rows, for CPU devices), M > 1 a prefill
// kernel (shaders/matmul_coopmat.comp: matrix units, for GPUs with VK_KHR_cooperative_matrix and
// weights of any format but f32, host/ops/matmul_coopmat.h; shaders/matmul_tiled.comp: shared-memory
// tiles, for other GPUs; shaders/matmul.comp: register blocking, for CPU devices); one dispatch per
// weight chunk, each writing its own columns of y.
// Test overrides of what MatMul plans for the device: each forces one kernel or geometry so tests
// cover every path on any device. Production code leaves them at their defaults (planned).
struct MatMulOverrides {
  // Weight rows per subgroup of the prefill kernel; 0 = the device's tuned value (tests pass
  // 4, 16 and 32 to cover the blockings every kind of device uses).
  uint32_t prefill_rows = 0;
  // Decode (M == 1) kernel: kAuto picks matvec_rows on CPU devices and matvec elsewhere; tests
  // force each to cover both on any device.
  enum class DecodeKernel { kAuto, kSubgroupSplitK, kRowsPerInvocation };
  DecodeKernel decode_kernel = DecodeKernel::kAuto;
  // Prefill (M > 1) kernel: kAuto picks the matrix-unit kernel (matmul_coopmat.comp) where
  // UsesCoopMatPrefill says so and the weights are not f32, else the shared-memory tiled kernel
  // (matmul_tiled.comp) on GPUs that run 256-invocation workgroups and the register-blocked one
  // (matmul.comp) on CPU devices. kCoopMat needs the device's matrix units (throws without);
  // kCoopMatEmulated runs the same kernel on emulated fragments on any device (tests).
  enum class PrefillKernel { kAuto, kRegisterBlocked, kTiled, kCoopMat, kCoopMatEmulated };
  PrefillKernel prefill_kernel = PrefillKernel::kAuto;
  // kCoopMatEmulated: the unit shape to emulate (tokens x rows x K; sides <= 16, K dividing 32) and
  // fragments per subgroup (0 = planned). Tests cover the shapes devices report (16x16x16, 16x8x16,
  // 8x8x16...) and every tile the plan may pick.
  uint32_t coopmat_m = 16, coopmat_n = 16, coopmat_k = 16;
  uint32_t coopmat_frag_m = 0, coopmat_frag_n = 0;
  // The matrix-unit kernel's K per pipeline step (32 or 64; 0 = planned: 64 where its two buffers
  // fit shared memory). Tests force both on one device.
  uint32_t coopmat_step_k = 0;
  // Decode on the split-K kernel: rows per subgroup and subgroups per workgroup; 0 = planned
  // (PlanMatVec). Tests force each geometry the plan may pick.
  uint32_t decode_rows_per_subgroup = 0, decode_subgroups = 0;
};

// What a caller asks of a product; `force` holds the test overrides.
struct MatMulOptions {
  // > 0: y = softcap * tanh(y / softcap), fused into the product (Gemma 4's final logits: 30).
  float softcap = 0.f;
  // Batched decode (host/batch): every row of x is a separate sequence's token and is computed by
  // the decode kernel exactly as M == 1 computes it (bit-identical), up to kDecodeColumns rows
  // sharing each weight load. Needs K % 4 == 0 when M > 1.
  bool rows_as_decode = false;
  // Device scratch of at least Int8ActivationsBytes(M, K) bytes (host/ops/quantize_activations.h):
  // where UsesIntegerDot(ctx, w.dtype) (host/ops/matmul_int8.h), MatMul quantizes x into it, puts a
  // compute barrier, and runs the integer-dot product on int8 activations instead of the float one.
  // Empty (the default): always the float product. With rows_as_decode, each row is quantized and
  // multiplied on its own, exactly as alone (the int8 decode kernel takes one row).
  vk::BufferSlice int8_scratch;
  // The int8 scratch already holds x quantized ([M][K], written by the kernel that produced x:
  // ResidualRmsNorm's int8_out, host/ops/rms_norm.h): the integer-dot path skips its quantize
  // dispatch and the barriers around it. Only where that path is taken for the whole of x (one
  // weight part, not rows_as_decode over several rows); ignored by the float products.
  bool int8_ready = false;
  // Tests only: force a kernel or geometry instead of the planned one.
  MatMulOverrides force;
};
// Rows of x one decode dispatch reads each weight load for (matvec.comp / matvec_rows.comp COLS);
// more rows take further groups of workgroups (grid z).
inline constexpr uint32_t kDecodeColumns = 8;
void MatMul(OpContext& ctx, const WeightMatrix& w, const Tensor& x, const Tensor& y, const MatMulOptions& options = {});

// act[j] = gelu_tanh(gate row j . x) * (up row j . x) for ONE token, j < N / 2, with gate_up the
// [gate | up] stack [N][K]: the gated feed-forward's gate applied as the product writes (matvec.comp
// with GELU_PAIRS: a subgroup reduces an output's gate and up rows together; one gelu per output).
// GPU kernel family and a single weight chunk only: returns false, recording nothing, otherwise,
// and the caller runs MatMul then GeluMulPairs instead.
// Several rows (batched decode): each row as one token alone, bit-identical (see rows_as_decode).
// options: force.decode_rows_per_subgroup / force.decode_subgroups (outputs per subgroup; tests) and
// int8_scratch (the integer-dot variant, host/ops/matmul_int8.h, where it applies).
bool MatVecGeluPairs(OpContext& ctx, const WeightMatrix& gate_up, const Tensor& x, const Tensor& act,
                     const MatMulOptions& options = {});

// y = W (gelu_tanh(gate) * up) for ONE token, the gate applied as x is read (matvec.comp with
// X_GELU_MUL: the per-layer-input projection without a gelu_mul pass in between; every row block
// recomputes the gelu of all K inputs, so callers use it only where K is small). gate, up: [1][K] f32 (separate tensors or slices of one); y: [1][N].
// GPU kernel family only: returns false, recording nothing, where it does not apply (CPU-family
// kernels, K % 4 != 0, or a slice offset the device cannot bind), and the caller runs GeluMul then
// MatMul instead. Several rows (batched decode): each row as one token alone, bit-identical.
// A block's end done by the decode product before it (the END_BLOCK variants of matvec.comp and
// matvec_int8.comp, shaders/common/end_block.glsl): with y the product's one output row,
//   x = (x + rmsnorm(y, w_out)) * scale;  a = rmsnorm(x, w_next) where w_next is given;
// and, with int8_out, the row it ends with (a, else x) also as int8 activations (as
// ResidualRmsNorm's int8_out), all by the product's last workgroup: one dispatch and one barrier
// instead of two of each. x, a: [1][H] f32; w_out, w_next: [1][H] f32 (w_next may be Tensor{}).
// counter: one uint of device memory that is zero before the dispatch (and is left zero).
struct BlockEnd {
  Tensor x, w_out, w_next, a;
  float scale = 1.f, eps = 0.f;
  const Int8Activations* int8_out = nullptr;
  vk::BufferSlice counter;
};
// Whether a product of w writing y can end the block `end` here: the GPU kernel family, one token,
// one weight part in one chunk, H % 4 == 0 with 16-byte aligned rows, a counter given.
bool CanEndBlock(const OpContext& ctx, const WeightMatrix& w, const Tensor& y, const BlockEnd& end);

// y = x W^T for one token (MatMul's decode product, float or integer-dot as MatMul would pick,
// options.int8_scratch / int8_ready as there) followed by the block end `end` in the same
// dispatch. Returns false, recording nothing, where CanEndBlock says no; the caller then runs
// MatMul and ResidualRmsNorm.
bool MatVecEndBlock(OpContext& ctx, const WeightMatrix& w, const Tensor& x, const Tensor& y,
                    const MatMulOptions& options, const BlockEnd& end);

// end (optional): the product also ends the block (as MatVecEndBlock); then it returns false,
// recording nothing, where that does not apply either (one token, CanEndBlock).
bool MatVecGeluMul(OpContext& ctx, const WeightMatrix& w, const Tensor& gate, const Tensor& up, const Tensor& y,
                   const BlockEnd* end = nullptr);

}  // namespace vkg
