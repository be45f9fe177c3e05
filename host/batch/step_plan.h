// How one continuous-batching step's inputs become forward passes (layer: host/batch). Pure
// arithmetic, no device: host/batch/gpu_batch_engine.cpp records what it plans.
//
// Every input is cut the way Engine would evaluate the same tokens alone, so that each row's
// arithmetic is the one it would get alone: a lone token is a decode step (planned like the
// replayed decode recording when replay_decode); a longer input is cut into chunks of `batch`
// tokens, a chunk of one token being a decode row at its real position and longer chunks prompt
// chunks. A pass holds at most one chunk per input (its KV ring holds one chunk's worth), all its
// decode rows first (rows 0 .. decode_rows - 1, one per input, batched in the products) and then
// prompt chunks while they fit `prefill_rows`; chunks that do not fit go to the next pass, in order.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace vkg {

struct StepChunk {
  uint32_t input = 0;         // index into the step's inputs
  uint32_t first = 0, T = 1;  // its tokens first .. first + T - 1 of the input
  uint32_t row0 = 0;          // its rows of the pass
  bool decode = false;        // one token through the decode kernels
  bool replay = false;        // decode planned as the replayed decode step (the input is one token)
  bool last = false;          // holds the input's last token: its logits are the input's result
};

struct StepPass {
  uint32_t rows = 0, decode_rows = 0;
  std::vector<StepChunk> chunks;  // decode rows first, in input order, then prompt chunks
};

struct StepPlanOptions {
  uint32_t batch = 64;          // Engine's prompt chunk (EngineOptions::batch)
  uint32_t prefill_rows = 128;  // most prompt-chunk rows per pass (>= batch)
  bool replay_decode = true;
  bool one_input_per_pass = false;  // models whose forward pass takes one sequence (MoE)
};

// sizes: tokens per input, each >= 1.
std::vector<StepPass> PlanStep(std::span<const uint32_t> sizes, const StepPlanOptions& options);

}  // namespace vkg
