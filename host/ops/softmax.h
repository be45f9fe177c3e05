// Row softmax op (layer: host/ops).
#pragma once
#include "host/ops/op_context.h"

namespace vkg {

// x = softmax(x) over each row, in place. x: [rows][cols] f32.
void Softmax(OpContext& ctx, const Tensor& x);

}  // namespace vkg
