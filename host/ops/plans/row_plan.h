// Launch plan of the GPU row kernels (rms_norm_rows, residual_norm_rows, ple_norm_combine): one
// workgroup per row, each invocation holding kPer elements of the row in registers (layer: host/ops).
#pragma once
#include <cstdint>
#include <initializer_list>

#include "host/device/tensor.h"

namespace vkg {

struct RowPlan {
  bool vec4 = false;       // 16-byte elements (the row length and every binding offset are multiples of 4 floats)
  uint32_t workgroup = 0;  // invocations per row: clamp(pow2ceil(elements), 32, 256)
  uint32_t per = 0;        // elements per invocation (spec 1: the register array's size)
  bool fits() const { return per <= kMaxPer; }
  // 16 vec4 = 64 registers per array: rows up to 16384 floats (4096 without vec4) fit; longer rows
  // fall back to the CPU-family kernel, which loops over any length.
  static constexpr uint32_t kMaxPer = 16;
};

inline RowPlan PlanRow(uint32_t dim, std::initializer_list<const Tensor*> bound) {
  RowPlan p;
  p.vec4 = dim % 4 == 0;
  for (const Tensor* t : bound) p.vec4 = p.vec4 && t->slice.offset % 16 == 0;
  const uint32_t elements = p.vec4 ? dim / 4 : dim;
  uint32_t wg = 32;
  while (wg < elements && wg < 256) wg *= 2;
  p.workgroup = wg;
  p.per = (elements + wg - 1) / wg;
  return p;
}

}  // namespace vkg
