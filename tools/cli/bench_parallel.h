// `vkgemma bench --parallel 1,4,16`: continuous-batching decode throughput (layer: tools).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host/model/config.h"
#include "host/runtime/engine.h"
#include "vk/caps.h"

namespace vkg::cli {

struct ParallelBench {
  ModelConfig config;
  std::string model_name, model_dir;  // model_dir empty: synthetic weights from `seed`
  EngineOptions options;              // context sized by the caller
  uint64_t seed = 1;
  uint32_t prompt = 8, gen = 4, reps = 1;
  std::vector<uint32_t> levels;  // concurrent sequences per measurement
  bool json = false;
  vk::DeviceCaps caps;
  double read_gbps = 0;  // the device's read bandwidth (bench's yardstick)
  bool checked = false;  // the kernels' selftest passed (tools/cli/bench_check.h)
  nlohmann::json check;
};

// Parses "1,4,16": positive counts, each at most 256.
std::vector<uint32_t> ParseParallelLevels(const std::string& text);

// One batch engine with max(levels) slots; per level: every sequence's prompt in one step (its
// time is each request's time to first token), then `gen` decode steps of all sequences together.
int RunParallelBench(const ParallelBench& b);

}  // namespace vkg::cli
