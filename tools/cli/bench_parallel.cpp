// `vkgemma bench --parallel` (layer: tools). Fields: bench/README.md.
#include "tools/cli/bench_parallel.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "host/batch/gpu_batch_engine.h"
#include "host/error.h"
#include "tools/cli/commands.h"
#include "vk/check.h"

#include "git_commit.h"

namespace vkg::cli {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

int32_t Argmax(const std::vector<float>& v) { return int32_t(std::max_element(v.begin(), v.end()) - v.begin()); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Reproducible prompt ids in [3, vocab), different per sequence.
std::vector<int32_t> Prompt(uint32_t n, int vocab, uint64_t seed) {
  std::vector<int32_t> ids(n);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 777;
  for (uint32_t i = 0; i < n; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    ids[i] = int32_t(3 + x % uint64_t(std::max(vocab - 3, 1)));
  }
  return ids;
}

struct Level {
  uint32_t sequences = 0;
  double prefill_s = 0;       // the step evaluating every prompt (each request's time to first token)
  double decode_step_ms = 0;  // median wall time of one decode step (every sequence's per-token latency)
  double decode_tok_s = 0;    // aggregate: sequences x gen / total decode time (median over reps)
  double request_s = 0;       // a request's latency: its prompt step plus gen decode steps (median)
  uint32_t dispatches = 0;    // device dispatches of one decode step
  uint32_t submits = 0;       // queue submissions of one decode step
};

}  // namespace

std::vector<uint32_t> ParseParallelLevels(const std::string& text) {
  std::vector<uint32_t> levels;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(item.c_str(), &end, 10);
    if (item.empty() || *end || v == 0 || v > 256) {
      throw UsageError("--parallel takes counts of 1..256 separated by commas, not '" + text + "'");
    }
    levels.push_back(uint32_t(v));
  }
  if (levels.empty()) throw UsageError("--parallel needs at least one count");
  return levels;
}

namespace {

// Warm-up (untimed): the pipelines of prompt steps and of decode steps at every level.
void WarmUp(BatchEngine& engine, const std::vector<uint32_t>& levels,
            const std::vector<std::vector<int32_t>>& prompts) {
  for (uint32_t level : levels) {
    std::vector<BatchEngine::SlotInput> in;
    for (uint32_t s = 0; s < level; ++s) engine.Reset(s), in.push_back({s, prompts[s]});
    std::vector<std::vector<float>> logits = engine.Step(in);
    std::vector<int32_t> next(level);
    for (uint32_t s = 0; s < level; ++s) next[s] = Argmax(logits[s]), in[s].tokens = std::span(&next[s], 1);
    engine.Step(in);
  }
}

// b.reps repetitions at `level` sequences: every prompt in one step, then b.gen decode steps of
// all sequences together; medians over the repetitions.
Level MeasureLevel(BatchEngine& engine, const ParallelBench& b, uint32_t level,
                   const std::vector<std::vector<int32_t>>& prompts) {
  std::vector<double> prefill, step_ms, tok_s, request;
  uint32_t dispatches = 0, submits = 0;
  for (uint32_t r = 0; r < b.reps; ++r) {
    std::vector<BatchEngine::SlotInput> in;
    for (uint32_t s = 0; s < level; ++s) engine.Reset(s), in.push_back({s, prompts[s]});
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::vector<float>> logits = engine.Step(in);
    const double p = Seconds(t0);
    std::vector<int32_t> next(level);
    double decode = 0;
    for (uint32_t i = 0; i < b.gen; ++i) {
      for (uint32_t s = 0; s < level; ++s) next[s] = Argmax(logits[s]), in[s].tokens = std::span(&next[s], 1);
      t0 = std::chrono::steady_clock::now();
      logits = engine.Step(in);
      const double dt = Seconds(t0);
      decode += dt;
      step_ms.push_back(dt * 1e3);
      dispatches = LastStepDispatches(engine);
      submits = LastStepSubmits(engine);
    }
    prefill.push_back(p);
    tok_s.push_back(double(level) * b.gen / decode);
    request.push_back(p + decode);
    if (!b.json) {
      std::fprintf(stderr, "--parallel %u rep %u/%u: prompts %.2f s, decode %.2f tok/s aggregate\n", level, r + 1,
                   b.reps, p, tok_s.back());
    }
  }
  return {level, Median(prefill), Median(step_ms), Median(tok_s), Median(request), dispatches, submits};
}

// What the report shows besides the options: the engine's numbers and every level's results.
struct ParallelReport {
  uint32_t slots = 0;
  double load_s = 0;
  MemoryReport memory;
  int validation_messages = 0;
  std::vector<Level> levels;
  double base_tok_s = 0;  // one sequence's decode tok/s when the first level is 1, else 0
};

void PrintJson(const ParallelBench& b, const ParallelReport& r) {
  const MemoryReport& mem = r.memory;
  nlohmann::json j;
  j["schema"] = "vkgemma-bench-parallel/1";
  j["commit"] = VKG_GIT_COMMIT;
  j["device"] = b.caps.name;
  j["device_type"] = b.caps.type_name;
  j["driver"] = b.caps.driver_name + " " + b.caps.driver_info;
  j["api_version"] = b.caps.api_version_string;
  j["model"] = b.model_name;
  j["source"] = b.model_dir.empty() ? "synthetic" : "checkpoint";
  j["weights"] = std::string(DTypeName(*b.options.weights));
  j["kv_dtype"] = std::string(DTypeName(b.options.kv_dtype));
  j["prompt_tokens"] = b.prompt;
  j["gen_tokens"] = b.gen;
  j["reps"] = b.reps;
  j["slots"] = r.slots;
  j["context"] = mem.context;
  j["batch"] = mem.batch;
  j["kernels"] = b.options.kernels == KernelFamily::kGpu   ? "gpu"
                 : b.options.kernels == KernelFamily::kCpu ? "cpu"
                                                           : "device";
  j["load_s"] = r.load_s;
  j["validation_messages"] = r.validation_messages;
  j["checked"] = b.checked;
  j["check"] = b.check;
  j["read_bandwidth_gbps"] = b.read_gbps;
  j["memory_bytes"] = {{"weights", mem.weights}, {"kv_cache", mem.kv_cache}, {"scratch", mem.scratch}};
  const double base = r.base_tok_s;
  nlohmann::json levels = nlohmann::json::array();
  for (const Level& l : r.levels) {
    levels.push_back({{"sequences", l.sequences},
                      {"decode_tok_s", l.decode_tok_s},
                      {"decode_tok_s_per_sequence", l.decode_tok_s / l.sequences},
                      {"speedup_vs_1", base > 0 ? l.decode_tok_s / base : 0.0},
                      {"decode_step_ms", l.decode_step_ms},
                      {"prompt_step_s", l.prefill_s},
                      {"request_latency_s", l.request_s},
                      {"dispatches_per_decode_step", l.dispatches},
                      {"submits_per_decode_step", l.submits}});
  }
  j["parallel"] = levels;
  std::printf("%s\n", j.dump(2).c_str());
}

void PrintText(const ParallelBench& b, const ParallelReport& r) {
  const MemoryReport& mem = r.memory;
  const double base = r.base_tok_s;
  std::printf("vkgemma bench --parallel  commit %s\n", VKG_GIT_COMMIT);
  std::printf("device         %s (%s), driver %s %s, Vulkan %s\n", b.caps.name.c_str(), b.caps.type_name.c_str(),
              b.caps.driver_name.c_str(), b.caps.driver_info.c_str(), b.caps.api_version_string.c_str());
  std::printf("model          %s (%s), weights %s, KV cache %s\n", b.model_name.c_str(),
              b.model_dir.empty() ? "synthetic weights at the real shapes" : "checkpoint",
              std::string(DTypeName(*b.options.weights)).c_str(), std::string(DTypeName(b.options.kv_dtype)).c_str());
  std::printf("run            -p %u -n %u -r %u, %u slots of context %u, batch %u; load %.1f s\n", b.prompt, b.gen,
              b.reps, r.slots, mem.context, mem.batch, r.load_s);
  std::printf("memory         %.1f MiB: weights %.1f + KV caches %.1f + scratch %.1f\n\n",
              double(mem.weights + mem.kv_cache + mem.scratch) / 1048576.0, double(mem.weights) / 1048576.0,
              double(mem.kv_cache) / 1048576.0, double(mem.scratch) / 1048576.0);
  std::printf(
      "| sequences | aggregate decode tok/s | x of 1 sequence | per-sequence tok/s | decode step ms "
      "(per-token latency) | prompt step s (time to first token) | request latency s | dispatches per step | submits "
      "per step |\n"
      "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Level& l : r.levels) {
    std::printf("| %u | %.2f | %s | %.2f | %.1f | %.2f | %.2f | %u | %u |\n", l.sequences, l.decode_tok_s,
                base > 0 ? vk::Concat(int(l.decode_tok_s / base * 100 + 0.5) / 100.0).c_str() : "-",
                l.decode_tok_s / l.sequences, l.decode_step_ms, l.prefill_s, l.request_s, l.dispatches, l.submits);
  }
}

}  // namespace

int RunParallelBench(const ParallelBench& b) {
  ParallelReport report;
  report.slots = *std::max_element(b.levels.begin(), b.levels.end());
  const uint32_t slots = report.slots;
  const auto load_start = std::chrono::steady_clock::now();
  std::unique_ptr<BatchEngine> engine = b.model_dir.empty()
                                            ? OpenSyntheticGpuBatchEngine(b.config, b.options, slots, b.seed)
                                            : OpenGpuBatchEngine(b.model_dir, b.options, slots);
  report.load_s = Seconds(load_start);
  const int vocab = engine->config().vocab_size;
  if (!b.json) {
    std::fprintf(stderr, "loaded %s with %u slots on %s in %.1f s; measuring -p %u -n %u -r %u at --parallel",
                 b.model_name.c_str(), slots, engine->device_name().c_str(), report.load_s, b.prompt, b.gen, b.reps);
    for (uint32_t l : b.levels) std::fprintf(stderr, " %u", l);
    std::fprintf(stderr, "\n");
  }
  std::vector<std::vector<int32_t>> prompts;
  for (uint32_t s = 0; s < slots; ++s) prompts.push_back(Prompt(b.prompt, vocab, b.seed + s));
  WarmUp(*engine, b.levels, prompts);
  for (uint32_t level : b.levels) report.levels.push_back(MeasureLevel(*engine, b, level, prompts));
  report.memory = engine->memory();
  report.base_tok_s = report.levels.front().sequences == 1 ? report.levels.front().decode_tok_s : 0;
  if (b.json) {
    report.validation_messages = engine->validation_messages();
    PrintJson(b, report);
  } else {
    PrintText(b, report);
  }
  return 0;
}

}  // namespace vkg::cli
