// Seeded random weights for generated checkpoints (layer: tools/make_checkpoint). Each tensor's
// stream is seeded from (seed, tensor name), so values do not depend on order or sharding.
#pragma once
#include <cstdint>
#include <vector>

#include "host/model/tensor_names.h"

namespace vkg::mkckpt {

// bf16 bits of the tensor's values. Scales keep activations O(1): projections N(0, 1/in),
// norms 1 + N(0, 0.1^2), layer scalars U[0.6, 1.2], per-expert scales U[0.5, 1.5].
std::vector<uint16_t> RandomBf16(const TensorSpec& spec, uint64_t seed);

}  // namespace vkg::mkckpt
