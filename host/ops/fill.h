// Fill op: out[i] = value (layer: host/ops). Used to initialise buffers and as a smoke test.
#pragma once
#include "host/device/tensor.h"
#include "host/ops/op_context.h"

namespace vkg {

// out: [n] f32.
void Fill(OpContext& ctx, const Tensor& out, float value);

}  // namespace vkg
