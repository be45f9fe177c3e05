// Where a model's weights come from (layer: host/device): a checkpoint on disk, or seeded synthetic
// values at the exact shapes a config implies (benchmarks of models nobody downloaded).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/device/weight_matrix.h"
#include "host/model/checkpoint.h"
#include "host/model/config.h"

namespace vkg {

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  virtual const ModelConfig& config() const = 0;
  // Rows of tensor `name` viewed as [rows][cols] (3-D stacks flatten their first two dims),
  // starting at row_offset, each value times `scale`. The source must outlive the RowSource.
  virtual RowSource Rows(const std::string& name, uint32_t cols, uint32_t row_offset = 0, float scale = 1.f) const = 0;
  // The type tensor `name` is stored in when it is block-quantized (a GGUF file's Q8_0, Q4_0 or
  // K-quant tensors), else nullopt: what a matrix computes in when it keeps its own type.
  virtual std::optional<DType> StoredType(const std::string&) const { return std::nullopt; }
  // Rows of a block-quantized tensor as its ggml blocks (uploaded without re-quantization); only for
  // tensors with a StoredType, as [rows][cols] (cols a multiple of the type's BlockValues).
  virtual RawRowSource RawRows(const std::string& name, uint32_t cols, uint32_t row_offset = 0) const;
  // A whole small tensor (norm weights, scalars) as float32.
  virtual std::vector<float> Vector(const std::string& name) const = 0;
  // Bytes of the source, for progress reports, and bytes per value of tensor `name` in it (2 for
  // bf16 and f16, 4 for f32: progress counts what was read, whatever the checkpoint's dtype).
  virtual uint64_t total_bytes() const = 0;
  virtual uint32_t ValueBytes(const std::string& name) const = 0;
};

// Reads from a loaded checkpoint's read-only mapping.
std::unique_ptr<WeightSource> CheckpointWeights(const Checkpoint& ckpt);

// Deterministic pseudo-random weights from (seed, tensor name, index): matrices uniform in
// +-1/sqrt(cols) (activations keep their scale through the layers), norm weights near 1, layer
// scalars 1. Nothing is stored: values are computed as rows are uploaded.
std::unique_ptr<WeightSource> SyntheticWeights(const ModelConfig& config, uint64_t seed);

}  // namespace vkg
