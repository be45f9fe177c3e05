// Int8 activation quantization op (layer: host/ops).
#include "host/ops/quantize_activations.h"

#include "shaders/params/quantize_params.h"
#include "vk/check.h"

namespace vkg {
namespace {
// Offset of the scales: every device's minStorageBufferOffsetAlignment divides 256.
constexpr uint64_t kScalesAlign = 256;
uint64_t QuantBytes(uint32_t rows, uint32_t cols) { return uint64_t(rows) * DivUp(cols, 32) * 32; }
uint64_t ScalesOffset(uint32_t rows, uint32_t cols) {
  return DivUp(QuantBytes(rows, cols), kScalesAlign) * kScalesAlign;
}
}  // namespace

uint64_t Int8ActivationsBytes(uint32_t max_rows, uint32_t max_cols) {
  return ScalesOffset(max_rows, max_cols) + uint64_t(max_rows) * DivUp(max_cols, 32) * 8;
}

Int8Activations Int8ActivationsIn(const vk::BufferSlice& scratch, uint32_t rows, uint32_t cols) {
  VKG_CHECK(rows > 0 && cols > 0, "Int8Activations: empty shape");
  const uint64_t scales = uint64_t(rows) * DivUp(cols, 32) * 8;
  VKG_CHECK(scratch.size >= ScalesOffset(rows, cols) + scales, "Int8Activations: scratch of ", scratch.size,
            " bytes is too small for [", rows, "][", cols, "]");
  Int8Activations a;
  a.quants = scratch.Sub(0, QuantBytes(rows, cols));
  a.scales = scratch.Sub(ScalesOffset(rows, cols), scales);
  a.rows = rows;
  a.cols = cols;
  return a;
}

void QuantizeActivations(OpContext& ctx, const Tensor& x, const Int8Activations& out) {
#if VKG_SHADERS_INTEGER_DOT
  VKG_CHECK(x.dtype == DType::F32, "QuantizeActivations: x must be f32");
  VKG_CHECK(x.rows == out.rows && x.cols == out.cols, "QuantizeActivations: x is [", x.rows, "][", x.cols,
            "], the int8 layout [", out.rows, "][", out.cols, "]");
  constexpr uint32_t kWg = 64;
  using K = vk::BindingKind;
  const auto& p = ctx.Pipeline(shaders::ShaderId::QuantizeActivations, {K::kStorage, K::kStorage, K::kStorage},
                               sizeof(shaders::QuantizeParams), vk::SpecConstants().Set(0, kWg));
  const uint64_t items = uint64_t(x.rows) * out.blocks();
  const Grid g = Grid1D(DivUp(items, kWg));
  const shaders::QuantizeParams params{x.cols, out.blocks(), x.rows, uint32_t(DivUp(items, kWg))};
  const vk::Binding b[] = {vk::Binding::Storage(x.slice), vk::Binding::Storage(out.quants),
                           vk::Binding::Storage(out.scales)};
  ctx.rec.SetDispatchBytes(x.elements() * 4);
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
#else
  (void)ctx, (void)x, (void)out;
  throw vk::Error("QuantizeActivations: built with a shader compiler without GL_EXT_integer_dot_product");
#endif
}

}  // namespace vkg
