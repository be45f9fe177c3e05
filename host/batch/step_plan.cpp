// Continuous-batching step plan (layer: host/batch).
#include "host/batch/step_plan.h"

#include <algorithm>

namespace vkg {

std::vector<StepPass> PlanStep(std::span<const uint32_t> sizes, const StepPlanOptions& o) {
  // Each input's chunks, in order, as Engine::Forward would cut them.
  std::vector<std::vector<StepChunk>> chunks(sizes.size());
  for (uint32_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == 1) {
      chunks[i].push_back({i, 0, 1, 0, true, o.replay_decode, true});
      continue;
    }
    for (uint32_t done = 0; done < sizes[i]; done += o.batch) {
      const uint32_t T = std::min(o.batch, sizes[i] - done);
      chunks[i].push_back({i, done, T, 0, T == 1, false, done + T == sizes[i]});
    }
  }
  std::vector<size_t> next(sizes.size(), 0);
  std::vector<StepPass> passes;
  while (true) {
    StepPass pass;
    std::vector<StepChunk> prefill;
    uint32_t prefill_used = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (next[i] == chunks[i].size()) continue;
      if (o.one_input_per_pass && (pass.decode_rows || !prefill.empty())) break;
      const StepChunk& c = chunks[i][next[i]];
      if (c.decode) {
        pass.chunks.push_back(c);
        pass.chunks.back().row0 = pass.decode_rows++;
      } else if (prefill.empty() || prefill_used + c.T <= o.prefill_rows) {
        prefill.push_back(c);
        prefill_used += c.T;
      } else {
        continue;  // the next pass takes it
      }
      ++next[i];
    }
    if (pass.chunks.empty() && prefill.empty()) break;
    pass.rows = pass.decode_rows;
    for (StepChunk& c : prefill) {
      c.row0 = pass.rows;
      pass.rows += c.T;
      pass.chunks.push_back(c);
    }
    passes.push_back(std::move(pass));
  }
  return passes;
}

}  // namespace vkg
