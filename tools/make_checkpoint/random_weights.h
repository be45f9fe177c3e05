// Seeded random weights for generated checkpoints (layer: tools/make_checkpoint). Each tensor's
// stream is seeded from (seed, tensor name), so values do not depend on order or sharding.
#pragma once
#include <cstdint>
#include <vector>

#include "host/model/tensor_names.h"

namespace vkg::mkckpt {

// The tensor's values in float32 (the writer rounds them to the stored dtype; bf16 checkpoints are
// the same as when values were drawn as bf16). Scales keep activations O(1): projections
// N(0, 1/in), norms 1 + N(0, 0.1^2), layer scalars U[0.6, 1.2], per-expert scales U[0.5, 1.5].
std::vector<float> RandomValues(const TensorSpec& spec, uint64_t seed);

}  // namespace vkg::mkckpt
