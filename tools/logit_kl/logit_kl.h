// KL divergence between two runs' logits (layer: tools, CPU only): how far a quantized model's
// next-token distributions are from a reference's (the bf16 model), position by position.
//
// Inputs are `vkgemma logits --out` files: float32 little-endian, row-major [positions][vocab].
// For each position p: P = softmax(reference row), Q = softmax(test row) (in double, max
// subtracted), KL(P || Q) = sum_i P_i (log P_i - log Q_i) in nats; also whether both rows' argmax
// agree (ties: the lower id, as `vkgemma logits` ranks them).
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace vkg::tools {

struct LogitDivergence {
  size_t positions = 0;
  double mean_kl = 0;  // nats, averaged over positions
  double median_kl = 0;
  double max_kl = 0;
  double p99_kl = 0;          // the value below which 99% of the positions' KL lie (nearest rank)
  double top1_agreement = 0;  // fraction of positions whose argmax is the same
  double rms_logit_diff = 0;  // sqrt(mean over all logits of (test - reference)^2)
};

// KL(softmax(p) || softmax(q)) of one position's logits, in nats (>= 0; 0 for equal rows).
double PositionKl(std::span<const float> reference, std::span<const float> test);

// Over every position; both spans hold positions * vocab values. Throws std::invalid_argument
// (one line) when the sizes disagree, vocab is 0 or does not divide them, or a value is not finite.
LogitDivergence CompareLogits(std::span<const float> reference, std::span<const float> test, size_t vocab);

// Reads a whole float32 file; throws std::runtime_error ("cannot read FILE: reason", "FILE: N
// bytes is not a whole number of float32 values").
std::vector<float> ReadFloat32File(const std::string& path);

}  // namespace vkg::tools
