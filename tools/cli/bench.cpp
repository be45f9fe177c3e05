// `vkgemma bench`: prefill and decode speed of a whole model, at the exact shapes of a released
// Gemma 4 checkpoint (synthetic weights) or from a checkpoint directory. Reports the effective
// bandwidth of decode against the device's own read bandwidth (a read-only compute kernel; the copy
// bandwidth beside it). Fields: bench/README.md.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "host/device/bandwidth.h"
#include "host/device/gpu_context.h"
#include "host/device/gpu_model.h"
#include "host/device/kv_cache.h"
#include "host/device/weight_matrix.h"
#include "host/error.h"
#include "host/model/checkpoint.h"
#include "host/model/config.h"
#include "host/model/shapes.h"
#include "host/model/tensor_names.h"
#include "host/ops/plans/kernel_choice.h"
#include "host/runtime/activations.h"
#include "host/runtime/scheduler.h"
#include "tools/cli/bench_audio.h"
#include "tools/cli/bench_check.h"
#include "tools/cli/bench_image.h"
#include "tools/cli/bench_parallel.h"
#include "tools/cli/commands.h"
#include "tools/cli/options.h"
#include "vk/check.h"

#include "git_commit.h"

namespace vkg::cli {
namespace {

// Defaults of -p / -n / -r: full-size runs on GPUs, short ones on CPU devices (lavapipe) so that
// `vkgemma bench` with no arguments finishes in under a minute there, weight generation included.
struct Lengths {
  uint32_t prompt, gen, reps;
};
constexpr Lengths kGpuDefaults{512, 128, 5};
constexpr Lengths kCpuDefaults{8, 4, 1};

constexpr const char* kUsage =
    "usage: vkgemma bench [-m DIR | --shape e2b|e4b|12b|26b-a4b|31b] [-p N] [-n N] [-r N]\n"
    "                     [--weights q4_0|q8_0|f16|bf16|f32] [--ctx-depth N] [--device D] [--json]\n"
    "                     [--profile] [--no-replay] [--kernels device|gpu|cpu] [--int-dot M]\n"
    "                     [--parallel N,N,...] [--image-tokens N] [--audio-seconds S] [--no-check]\n"
    "Measures prefill and decode speed (median, min and max over the repetitions) of a model:\n"
    "without -m, synthetic random weights at the exact shapes of a released checkpoint (never\n"
    "shrunk; a shape that does not fit the device is refused, naming one that does). Decode is\n"
    "also reported as effective GB/s (weight + KV cache bytes one step reads) and as a percent of\n"
    "the device's read bandwidth (a compute kernel streaming a buffer beyond the last-level cache;\n"
    "`vkgemma devices --bandwidth` measures it alone); vkCmdCopyBuffer's is printed beside it.\n"
    "  -m, --model DIR   a Hugging Face Gemma 4 checkpoint directory (or a .gguf file) instead of a\n"
    "                    built-in shape\n"
    "  --shape NAME      built-in shape: e2b, e4b, 12b, 26b-a4b, 31b (default: the largest that\n"
    "                    fits the device in the chosen format, e2b on lavapipe)\n"
    "  -p, --prompt N    prompt tokens, prefill timed as one request (default 512; 8 on CPU devices)\n"
    "  -n, --gen N       tokens decoded one at a time after the prompt (default 128; 4 on CPU devices)\n"
    "  -r, --reps N      repetitions; each resets the KV cache (default 5; 1 on CPU devices)\n"
    "  --weights F       compute format of the linear layers: q4_0 (default), q8_0, f16, bf16, f32\n"
    "  --parallel N,...  continuous batching instead: for each count, that many sequences prefill\n"
    "                    their -p prompts in one step and decode -n tokens together (one forward\n"
    "                    pass per step); reports aggregate decode tok/s, per-token and per-request\n"
    "                    latency and dispatches per step per count (e.g. --parallel 1,4,16)\n"
    "  --image-tokens N  the vision tower instead: encode one synthetic image of N soft tokens (9N\n"
    "                    patches) at the released tower's shapes (hidden 768, 16 layers); reports\n"
    "                    encode ms and soft tokens/s (weights bf16 unless --weights; -r reps, 3)\n"
    "  --audio-seconds S the audio tower instead: encode one synthetic clip of S seconds (at most 30)\n"
    "                    at the released E2B/E4B tower's shapes (hidden 1024, 12 conformer layers);\n"
    "                    reports encode ms per second of audio (weights bf16 unless --weights; -r, 3)\n"
    "  --ctx-depth N     first fill the KV cache with N positions (untimed), then measure the prompt\n"
    "                    and decode at positions N.. (default 0)\n"
    "  --device D        a device index or name substring (default: VKGEMMA_DEVICE, else the first)\n"
    "  --batch N         prompt tokens per forward chunk (default 512 on GPUs, 64 on CPU devices)\n"
    "  --kv F            KV cache storage: f16 (default), q8_0, q4_0 or f32\n"
    "  --seed N          seed of the synthetic weights and the prompt tokens (default 1)\n"
    "  --json            print one JSON object (fields: bench/README.md) instead of the table\n"
    "  --no-replay       record every decode step anew instead of replaying one command buffer\n"
    "  --no-check        skip the selftest of the timed kernels (run before timing, or its passing result\n"
    "                    cached per device, driver and build); the result says \"checked\": false\n"
    "  --kernels F       device (default: the device kind's family), gpu or cpu: run that kernel family\n"
    "                    (e.g. the GPU family's dispatches and geometry on a CPU device)\n"
    "  --int-dot M       integer-dot products (GPU family, q8_0/q4_0): auto (where the device\n"
    "                    accelerates them), off, force (wherever the device has the feature)\n"
    "  --profile         after the timed runs, prefill the prompt and decode up to 8 tokens again\n"
    "                    with a timestamp after every op; report device time per op kind and token\n"
    "`vkgemma bench` with no arguments runs the largest shape that fits with the defaults above;\n"
    "on lavapipe that is e2b, q4_0, -p 8 -n 4 -r 1 (loading the weights takes most of the time).\n"
    "Tokenization and sampling (greedy argmax on the host) are not timed; prefill and decode times\n"
    "are wall clock around the engine's forward calls (submit, device work, logits read-back).\n";

double GiB(uint64_t b) { return double(b) / double(1ull << 30); }

std::string F2(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

struct Stats {
  double median = 0, min = 0, max = 0;
};

Stats Summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  Stats s;
  if (v.empty()) return s;
  s.min = v.front();
  s.max = v.back();
  const size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  return s;
}

Stats Scale(const Stats& s, double f) { return {s.median * f, s.min * f, s.max * f}; }

nlohmann::json ToJson(const Stats& s) { return {{"median", s.median}, {"min", s.min}, {"max", s.max}}; }

// Device bytes of one stored [rows][cols] matrix in `format` (as GpuModel::EstimateBytes counts).
uint64_t MatrixBytes(uint64_t rows, uint64_t cols, DType format) {
  const uint32_t padded = PaddedCols(format, uint32_t(cols));
  return rows * (WeightRowBytes(format, padded) + WeightScaleRowBytes(format, padded));
}

// Device weight bytes one decode step reads: every device tensor (the tied embedding table once:
// it is the head), but only top_k of num_experts of each expert stack. The per-layer-embedding
// table stays on the host and is not counted (one row per token is uploaded).
uint64_t DecodeWeightBytes(const ModelConfig& c, DType format) {
  const uint64_t all = GpuModel::EstimateBytes(c, format);
  if (!c.has_moe()) return all;
  uint64_t experts = 0;
  ForEachTensor(c, [&](const TensorSpec& s) {
    if (s.name.find("experts.") == std::string::npos) return;
    uint64_t rows = 1;
    for (size_t i = 0; i + 1 < s.shape.size(); ++i) rows *= uint64_t(s.shape[i]);
    experts += MatrixBytes(rows, uint64_t(s.shape.back()), format);
  });
  const uint64_t active = experts / uint64_t(c.num_experts) * uint64_t(c.top_k_experts);
  return all - experts + active;
}

// KV cache bytes the decode step at position `pos` reads: every layer (KV-shared ones read their
// source's cache) reads K and V of the positions it attends to.
uint64_t DecodeKvBytes(const ModelConfig& c, uint32_t pos, DType kv) {
  uint64_t total = 0;
  for (const LayerInfo& li : c.layers) {
    const uint64_t seen = li.full ? uint64_t(pos) + 1 : std::min<uint64_t>(uint64_t(pos) + 1, uint64_t(li.window));
    total += 2 * KvBufferBytes(kv, seen * uint64_t(li.n_kv_heads) * uint64_t(li.head_dim), uint32_t(li.head_dim));
  }
  return total;
}

struct Need {
  uint64_t weights = 0, kv = 0, scratch = 0;
  uint64_t total() const { return weights + kv + scratch; }
};

Need Estimate(const ModelConfig& c, DType format, uint32_t context, uint32_t batch, DType kv) {
  return {GpuModel::EstimateBytes(c, format), KvCache::Bytes(c, context, batch, kv),
          Activations::Bytes(c, batch, 8, context)};
}

int32_t Argmax(const std::vector<float>& logits) {
  return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// Reproducible prompt token ids in [3, vocab) (content does not change the speed).
std::vector<int32_t> PromptTokens(uint32_t n, int vocab, uint64_t seed) {
  std::vector<int32_t> ids(n);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 12345;
  const uint64_t range = vocab > 3 ? uint64_t(vocab - 3) : 1;
  for (uint32_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    ids[i] = int32_t(3 + x % range) % vocab;
  }
  return ids;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Device time per token by op kind (shader variant), from Engine profiling, with each kind's
// launch geometry: workgroups and invocations per dispatch, bytes read per dispatch.
struct OpProfile {
  struct Op {
    std::string name;
    double ops_per_token = 0, ms_per_token = 0;
    double dispatches = 0, workgroups = 0, invocations = 0, bytes_read = 0;  // sums over the run
    bool bytes_estimated = false;  // some dispatch did not state its bytes (Recorder::SetDispatchBytes)
    double WorkgroupsPerDispatch() const { return dispatches ? workgroups / dispatches : 0; }
    double InvocationsPerDispatch() const { return dispatches ? invocations / dispatches : 0; }
    double BytesPerDispatch() const { return dispatches ? bytes_read / dispatches : 0; }
    double ReadGbps(uint32_t tokens) const {  // bytes read / device time
      return ms_per_token > 0 ? bytes_read / tokens / (ms_per_token * 1e-3) * 1e-9 : 0;
    }
  };
  uint32_t tokens = 0;
  double device_ms_per_token = 0, wall_ms_per_token = 0;
  double dispatches_per_token = 0;           // compute dispatches (copies and fills not counted)
  double submits_per_token = 0;              // queue submissions, each waited on (Engine::submissions)
  double barriers_per_token = -1;            // decode: pipeline barriers of the replayed step (-1: not known)
  double barriers_requested_per_token = -1;  // ... as the ops asked for them, before merging
  std::vector<Op> ops;                       // most time first
};

OpProfile Aggregate(std::vector<Engine::OpTime> times, uint32_t tokens, double wall_s) {
  OpProfile p;
  p.tokens = std::max<uint32_t>(tokens, 1);
  for (const Engine::OpTime& t : times) {
    auto it = std::find_if(p.ops.begin(), p.ops.end(), [&](const OpProfile::Op& o) { return o.name == t.name; });
    if (it == p.ops.end()) it = p.ops.insert(p.ops.end(), OpProfile::Op{t.name});
    it->ops_per_token += 1.0 / p.tokens;
    it->ms_per_token += t.ns * 1e-6 / p.tokens;
    it->dispatches += 1;
    it->workgroups += double(t.workgroups);
    it->invocations += double(t.invocations);
    it->bytes_read += double(t.bytes_read);
    it->bytes_estimated = it->bytes_estimated || t.bytes_estimated;
    p.device_ms_per_token += t.ns * 1e-6 / p.tokens;
    if (t.name != "copy" && t.name != "fill") p.dispatches_per_token += 1.0 / p.tokens;
  }
  std::sort(p.ops.begin(), p.ops.end(), [](const auto& a, const auto& b) { return a.ms_per_token > b.ms_per_token; });
  p.wall_ms_per_token = wall_s * 1e3 / p.tokens;
  return p;
}

// The prompt's prefill, then `steps` decode tokens, each with a timestamp after every op.
struct Profiles {
  OpProfile prefill, decode;
};
Profiles ProfileRun(Engine& engine, const std::vector<int32_t>& prompt, uint32_t steps) {
  Profiles p;
  engine.Reset();
  engine.SetProfiling(true);
  auto t0 = std::chrono::steady_clock::now();
  uint64_t submits = engine.submissions();
  std::vector<float> logits = engine.Forward(prompt, false);
  p.prefill = Aggregate(engine.TakeProfile(), uint32_t(prompt.size()), Seconds(t0));
  p.prefill.submits_per_token = double(engine.submissions() - submits) / p.prefill.tokens;
  double wall = 0;
  steps = std::max<uint32_t>(steps, 1);
  submits = engine.submissions();
  for (uint32_t i = 0; i < steps; ++i) {
    const int32_t next = Argmax(logits);
    t0 = std::chrono::steady_clock::now();
    logits = engine.Forward(std::span(&next, 1), false);
    wall += Seconds(t0);
  }
  p.decode = Aggregate(engine.TakeProfile(), steps, wall);
  p.decode.submits_per_token = double(engine.submissions() - submits) / steps;
  // The recorded step's own counts (the profile's timestamps add no dispatches or barriers).
  const Engine::StepCounts counts = engine.decode_step_counts();
  if (counts.dispatches) {
    p.decode.dispatches_per_token = counts.dispatches;
    p.decode.barriers_per_token = counts.barriers;
    p.decode.barriers_requested_per_token = counts.barriers_requested;
  }
  engine.SetProfiling(false);
  return p;
}

nlohmann::json ToJson(const OpProfile& p) {
  nlohmann::json ops = nlohmann::json::array();
  for (const auto& o : p.ops) {
    ops.push_back({{"op", o.name},
                   {"ops_per_token", o.ops_per_token},
                   {"ms_per_token", o.ms_per_token},
                   {"workgroups_per_dispatch", o.WorkgroupsPerDispatch()},
                   {"invocations_per_dispatch", o.InvocationsPerDispatch()},
                   {"bytes_read_per_dispatch", o.BytesPerDispatch()},
                   {"bytes_read_estimated", o.bytes_estimated},
                   {"read_gbps", o.ReadGbps(p.tokens)}});
  }
  return {{"tokens", p.tokens},
          {"device_ms_per_token", p.device_ms_per_token},
          {"wall_ms_per_token", p.wall_ms_per_token},
          {"dispatches_per_token", p.dispatches_per_token},
          {"submits_per_token", p.submits_per_token},
          {"barriers_per_token", p.barriers_per_token >= 0 ? nlohmann::json(p.barriers_per_token) : nlohmann::json()},
          {"barriers_requested_per_token",
           p.barriers_requested_per_token >= 0 ? nlohmann::json(p.barriers_requested_per_token) : nlohmann::json()},
          {"ops", ops}};
}

void PrintProfile(const char* what, const OpProfile& p) {
  std::printf("\n%s profile (%u tokens, timestamps after every op): device %.2f ms of %.2f ms wall per token\n", what,
              p.tokens, p.device_ms_per_token, p.wall_ms_per_token);
  std::printf("per token: %.1f dispatches, %s pipeline barriers (%s asked for by the ops), %.2f queue submissions\n\n",
              p.dispatches_per_token, p.barriers_per_token >= 0 ? vk::Concat(p.barriers_per_token).c_str() : "-",
              p.barriers_requested_per_token >= 0 ? vk::Concat(p.barriers_requested_per_token).c_str() : "-",
              p.submits_per_token);
  std::printf(
      "| op | per token | ms per token | %% of device time | workgroups | invocations | KB read | GB/s read |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|\n");
  bool any_estimate = false;
  for (const auto& o : p.ops) {
    any_estimate = any_estimate || o.bytes_estimated;
    std::printf("| %s | %.2f | %.3f | %.1f | %.0f | %.0f | %s%.1f | %s%.1f |\n", o.name.c_str(), o.ops_per_token,
                o.ms_per_token, p.device_ms_per_token > 0 ? 100.0 * o.ms_per_token / p.device_ms_per_token : 0.0,
                o.WorkgroupsPerDispatch(), o.InvocationsPerDispatch(), o.bytes_estimated ? "~" : "",
                o.BytesPerDispatch() / 1024.0, o.bytes_estimated ? "~" : "", o.ReadGbps(p.tokens));
  }
  std::printf("\nworkgroups, invocations and KB read are per dispatch%s\n",
              any_estimate
                  ? "; ~: estimated from the bound ranges of the read bindings (the op does not state its bytes)"
                  : "");
}

// The command line, as given (lengths still 0 where not set: their defaults depend on the device).
struct BenchArgs {
  std::string model_dir, shape;
  EngineOptions options;
  uint32_t prompt = 0, gen = 0, reps = 0, depth = 0;
  bool prompt_set = false, gen_set = false, reps_set = false, json = false, profile = false;
  std::vector<uint32_t> parallel;
  uint64_t seed = 1;
  bool no_check = false;      // --no-check: time the kernels without their selftest
  BenchCheck check;           // the selftest of the kernels timed (tools/cli/bench_check.h)
  uint32_t image_tokens = 0;  // --image-tokens: the vision tower's encode instead (bench_image.h)
  double audio_seconds = 0;   // --audio-seconds: the audio tower's encode instead (bench_audio.h)
};

// Parses and checks the arguments; nullopt after printing the usage for --help.
std::optional<BenchArgs> ParseBenchArgs(const std::vector<std::string>& args) {
  BenchArgs a;
  EngineOptions& o = a.options;
  // q4_0 unless --weights, with -m DIR too: bench measures the format people deploy (bench/README.md).
  o.weights = DType::Q4_0;
  OptionParser parser("bench");
  AddEngineOptions(parser, &a.model_dir, &o);
  parser.Value({"--shape"}, [&](const std::string& v) { a.shape = v; })
      .Value({"-p", "--prompt"}, [&](const std::string& v) { a.prompt = ParseCount("-p", v, 1), a.prompt_set = true; })
      .Value({"-n", "--gen"}, [&](const std::string& v) { a.gen = ParseCount("-n", v, 1), a.gen_set = true; })
      .Value({"-r", "--reps"}, [&](const std::string& v) { a.reps = ParseCount("-r", v, 1), a.reps_set = true; })
      .Value({"--ctx-depth"}, [&](const std::string& v) { a.depth = ParseCount("--ctx-depth", v, 0); })
      .Value({"--seed"}, [&](const std::string& v) { a.seed = ParseCount("--seed", v, 0); })
      .Value({"--ctx"},
             [&](const std::string&) {
               throw UsageError("bench sizes the context itself (--ctx-depth + -p + -n); use --ctx-depth");
             })
      .Value({"--parallel"}, [&](const std::string& v) { a.parallel = ParseParallelLevels(v); })
      .Value({"--image-tokens"},
             [&](const std::string& v) {
               a.image_tokens = ParseCount("--image-tokens", v, 1);
               if (a.image_tokens > 1120) throw UsageError("--image-tokens is at most 1120 (HF's largest budget)");
             })
      .Value(
          {"--audio-seconds"},
          [&](const std::string& v) {
            char* end = nullptr;
            a.audio_seconds = std::strtod(v.c_str(), &end);
            if (v.empty() || *end || !(a.audio_seconds >= 0.04 && a.audio_seconds <= 30.0)) {
              throw UsageError(
                  "--audio-seconds must be a number of seconds from 0.04 to 30 (HF's longest clip), not \"" + v + "\"");
            }
          })
      .Flag({"--json"}, [&] { a.json = true; })
      .Flag({"--profile"}, [&] { a.profile = true; })
      .Flag({"--no-replay"}, [&] { o.replay_decode = false; })
      .Flag({"--no-check"}, [&] { a.no_check = true; })
      .Value({"--kernels"}, [&](const std::string& v) { o.kernels = ParseKernels(v); })
      .Value({"--int-dot"}, [&](const std::string& v) { o.features.integer_dot = ParseIntDot(v); });
  const auto positional = parser.Parse(args);
  if (positional.size() == 1 && positional[0] == "--help") {
    std::fputs(kUsage, stdout);
    return std::nullopt;
  }
  if (!positional.empty()) throw UsageError("unexpected argument '" + positional[0] + "'");
  if (!a.model_dir.empty() && !a.shape.empty()) throw UsageError("give either -m DIR or --shape NAME, not both");
  if (o.device == "cpu") throw UsageError("bench measures a Vulkan device; --device cpu is not supported");
  return a;
}

// The config of -m DIR or --shape NAME (a bad shape or config.json fails before any device work);
// a default one when neither is given (the shape is then chosen to fit the device).
ModelConfig ConfigOfArgs(const BenchArgs& a) {
  ModelConfig config;
  if (!a.model_dir.empty()) {
    config = Checkpoint::LoadConfigOf(a.model_dir);
  } else if (!a.shape.empty()) {
    try {
      config = ShapeConfig(a.shape);
    } catch (const Error& e) {
      throw UsageError(e.what());
    }
  }
  return config;
}

// The device: its caps, and its read and copy bandwidth measured before the model takes the memory.
struct DeviceProbe {
  vk::DeviceCaps caps;
  CopyBandwidth copy;
  ReadBandwidth read;
};

DeviceProbe ProbeDevice(const EngineOptions& o) {
  DeviceProbe d;
  GpuContext probe(GpuOptions{o.device, o.validation});
  d.caps = probe.device().caps();
  d.copy = MeasureCopyBandwidth(probe, 5);
  d.read = MeasureReadBandwidth(probe, 5);
  return d;
}

// What bench measures: the model (config and name) and the context that holds every position.
struct BenchModel {
  ModelConfig config;
  std::string name;  // the --shape name or the -m directory
  uint32_t context = 0;
};

// Fills in the device-dependent defaults of -p / -n / -r, picks the shape when neither -m nor
// --shape was given, and refuses a model that does not fit the device (naming one that does).
BenchModel SizeModel(BenchArgs& a, ModelConfig config, const vk::DeviceCaps& caps) {
  const EngineOptions& o = a.options;
  const DType format = *o.weights;
  const Lengths def = caps.type_name == "cpu" ? kCpuDefaults : kGpuDefaults;
  if (!a.prompt_set) a.prompt = def.prompt;
  if (!a.gen_set) a.gen = def.gen;
  if (!a.reps_set) a.reps = def.reps;
  const uint64_t positions = uint64_t(a.depth) + a.prompt + a.gen;
  const uint32_t context = uint32_t(std::max<uint64_t>(256, (positions + 255) / 256 * 256));
  const uint64_t usable = caps.DeviceLocalBytes() / 10 * 9;  // the rule of Scheduler::DefaultContext
  // The prompt chunk the engine will use for a model (--batch, else Scheduler::DefaultBatch).
  auto batch_for = [&](const ModelConfig& c, DType f) {
    return o.batch ? o.batch : Scheduler::DefaultBatch(c, caps, GpuModel::EstimateBytes(c, f), o.kv_dtype);
  };
  auto fits = [&](const ModelConfig& c, DType f) {
    return Estimate(c, f, context, batch_for(c, f), o.kv_dtype).total() <= usable;
  };
  // The largest built-in shape that fits in `f`, or "" when none does.
  auto largest_fitting = [&](DType f) {
    std::string best;
    for (const std::string& n : ShapeNames()) {
      if (fits(ShapeConfig(n), f)) best = n;
    }
    return best;
  };
  if (a.model_dir.empty() && a.shape.empty()) {
    a.shape = largest_fitting(format);
    if (a.shape.empty()) {
      throw Error(vk::Concat(
          "no built-in shape fits ", caps.name, " (", usable >> 20, " MiB usable) in ", DTypeName(format),
          "; e2b needs ",
          Estimate(ShapeConfig("e2b"), format, context, batch_for(ShapeConfig("e2b"), format), o.kv_dtype).total() >>
              20,
          " MiB"));
    }
    config = ShapeConfig(a.shape);
  }
  if (positions > uint64_t(config.max_position_embeddings)) {
    throw UsageError(vk::Concat("--ctx-depth + -p + -n = ", positions, " exceeds the model's ",
                                config.max_position_embeddings, " positions"));
  }
  const std::string model_name = a.model_dir.empty() ? a.shape : a.model_dir;
  const Need need = Estimate(config, format, context, batch_for(config, format), o.kv_dtype);
  if (need.total() > usable) {
    std::string hint = largest_fitting(format);
    if (!hint.empty()) {
      hint = "; " + hint + " fits (try --shape " + hint + ")";
    } else {
      for (DType f : {DType::Q4_0, DType::Q8_0, DType::F16}) {
        if (const std::string s = largest_fitting(f); !s.empty()) {
          hint = vk::Concat("; ", s, " fits in ", DTypeName(f), " (try --shape ", s, " --weights ", DTypeName(f), ")");
          break;
        }
      }
      if (hint.empty()) hint = "; no built-in shape fits this device";
    }
    throw Error(vk::Concat(model_name, " does not fit ", caps.name, " in ", DTypeName(format), ": it needs ",
                           F2(GiB(need.total())), " GiB (weights ", F2(GiB(need.weights)), " + KV cache ",
                           F2(GiB(need.kv)), " + scratch ", F2(GiB(need.scratch)), ") of ", F2(GiB(usable)),
                           " GiB usable device memory", hint));
  }
  return {std::move(config), model_name, context};
}

// --parallel: continuous batching instead of one sequence (tools/cli/bench_parallel.cpp).
int RunParallel(const BenchArgs& a, const BenchModel& m, const DeviceProbe& d) {
  if (a.profile || a.depth) throw UsageError("--parallel does not combine with --profile or --ctx-depth");
  ParallelBench pb;
  pb.config = m.config;
  pb.model_name = m.name;
  pb.model_dir = a.model_dir;
  pb.options = a.options;
  pb.seed = a.seed;
  pb.prompt = a.prompt;
  pb.gen = a.gen;
  pb.reps = a.reps;
  pb.levels = a.parallel;
  pb.json = a.json;
  pb.checked = a.check.checked;
  pb.check = a.check.ToJson();
  pb.caps = d.caps;
  pb.read_gbps = d.read.gbps;
  return RunParallelBench(pb);
}

// Opens the engine (synthetic weights are generated while uploading), with a progress line on a
// terminal; returns the seconds it took in `load_s`.
std::unique_ptr<Engine> OpenEngine(const BenchArgs& a, const BenchModel& m, double* load_s) {
  EngineOptions o = a.options;
  const bool tty = !a.json && ::isatty(STDERR_FILENO) != 0;
  if (tty) {
    o.progress = [](uint64_t done, uint64_t total) {
      static int last = -1;
      const int pct = total ? int(done * 100 / total) : 100;
      if (pct == last) return;
      last = pct;
      std::fprintf(stderr, "\rloading %3d%%", pct);
      std::fflush(stderr);
    };
  }
  const auto load_start = std::chrono::steady_clock::now();
  std::unique_ptr<Engine> engine =
      a.model_dir.empty() ? Engine::OpenSynthetic(m.config, o, a.seed) : Engine::Open(a.model_dir, o);
  *load_s = Seconds(load_start);
  if (tty) std::fprintf(stderr, "\r\033[K");
  if (!a.json) {
    std::fprintf(stderr, "loaded %s (%s) on %s in %.1f s; measuring -p %u -n %u -r %u%s\n", m.name.c_str(),
                 a.model_dir.empty() ? "synthetic weights" : "checkpoint", engine->device_name().c_str(), *load_s,
                 a.prompt, a.gen, a.reps, a.depth ? vk::Concat(" at depth ", a.depth).c_str() : "");
  }
  return engine;
}

// Warm-up (untimed): one whole repetition's work (the depth filler, the full prompt in the same
// chunks, two decode steps: the recorded and the replayed one), so that every pipeline a timed
// run uses is created here: pipeline creation (seconds per kernel on lavapipe with a fresh
// cache) must not land in the first timed prefill. Checked by TimeRuns: pipelines_created_while_timed.
void WarmUp(Engine& engine, const std::vector<int32_t>& filler, const std::vector<int32_t>& tokens) {
  engine.Reset();
  if (!filler.empty()) engine.Forward(filler, false);
  std::vector<float> l = engine.Forward(tokens, false);
  for (int i = 0; i < 2; ++i) {
    const int32_t next = Argmax(l);
    l = engine.Forward(std::span(&next, 1), false);
  }
  engine.Reset();
}

// One timed prefill of the prompt: its seconds; `logits` receives the last position's logits.
double TimePrefill(Engine& engine, const std::vector<int32_t>& tokens, std::vector<float>* logits) {
  const auto t0 = std::chrono::steady_clock::now();
  *logits = engine.Forward(tokens, false);
  return Seconds(t0);
}

// `gen` greedy decode steps after the prompt: the seconds of the forward calls (sampling untimed).
double TimeDecode(Engine& engine, uint32_t gen, std::vector<float> logits) {
  double dt = 0;
  for (uint32_t i = 0; i < gen; ++i) {
    const int32_t next = Argmax(logits);  // sampling: not timed
    const auto t0 = std::chrono::steady_clock::now();
    logits = engine.Forward(std::span(&next, 1), false);
    dt += Seconds(t0);
  }
  return dt;
}

// The seconds of every repetition's prefill and decode, and the pipelines created meanwhile.
struct TimedRuns {
  std::vector<double> prefill_s, decode_s;
  size_t pipelines_created = 0;  // pipelines_created_while_timed: 0 when the warm-up saw them all
};

TimedRuns TimeRuns(Engine& engine, const BenchArgs& a, const std::vector<int32_t>& filler,
                   const std::vector<int32_t>& tokens) {
  TimedRuns t;
  const size_t pipelines_before = engine.pipelines_created();
  for (uint32_t r = 0; r < a.reps; ++r) {
    engine.Reset();
    if (a.depth) engine.Forward(filler, false);
    std::vector<float> logits;
    t.prefill_s.push_back(TimePrefill(engine, tokens, &logits));
    t.decode_s.push_back(TimeDecode(engine, a.gen, std::move(logits)));
    if (!a.json) {
      std::fprintf(stderr, "rep %u/%u: prefill %.1f tok/s, decode %.2f tok/s\n", r + 1, a.reps,
                   a.prompt / t.prefill_s.back(), a.gen / t.decode_s.back());
    }
  }
  t.pipelines_created = engine.pipelines_created() - pipelines_before;
  if (t.pipelines_created) {
    std::fprintf(stderr, "warning: %zu pipelines were created inside timed runs: the warm-up missed them\n",
                 t.pipelines_created);
  }
  return t;
}

// Validation (VKGEMMA_VALIDATION=1) slows everything down: the numbers are then not speeds.
// Returns the engine's validation message count.
int WarnIfValidation(const Engine& engine, const EngineOptions& o) {
  const int validation = engine.validation_messages();
  const char* env_validation = std::getenv("VKGEMMA_VALIDATION");
  if (o.validation || validation || (env_validation && *env_validation && std::string(env_validation) != "0")) {
    std::fprintf(stderr, "warning: Vulkan validation was on (%d messages): timings are not representative\n",
                 validation);
  }
  return validation;
}

// The reported numbers: speeds over the repetitions, the bytes a decode step reads, the parameters.
struct BenchResults {
  Stats prefill, decode, ttft_ms, gbps, pct;             // tok/s, tok/s, ms, GB/s, % of the read bandwidth
  uint64_t weight_read = 0, kv_read = 0, per_token = 0;  // bytes per decode token
  uint64_t params = 0;
};

BenchResults ComputeResults(const TimedRuns& t, const BenchArgs& a, const ModelConfig& c, double read_gbps) {
  BenchResults r;
  std::vector<double> prefill_tps, decode_tps;
  for (double s : t.prefill_s) prefill_tps.push_back(a.prompt / s);
  for (double s : t.decode_s) decode_tps.push_back(a.gen / s);
  r.prefill = Summarize(prefill_tps);
  r.decode = Summarize(decode_tps);
  r.ttft_ms = Scale(Summarize(t.prefill_s), 1e3);
  // Bytes per decode token: weights, plus the KV cache averaged over the decoded positions.
  r.weight_read = DecodeWeightBytes(c, *a.options.weights);
  uint64_t kv_sum = 0;
  for (uint32_t i = 0; i < a.gen; ++i) kv_sum += DecodeKvBytes(c, a.depth + a.prompt + i, a.options.kv_dtype);
  r.kv_read = kv_sum / a.gen;
  r.per_token = r.weight_read + r.kv_read;
  r.gbps = Scale(r.decode, double(r.per_token) * 1e-9);
  r.pct = Scale(r.gbps, 100.0 / read_gbps);
  ForEachTensor(c, [&](const TensorSpec& s) {
    uint64_t n = 1;
    for (int64_t d : s.shape) n *= uint64_t(d);
    r.params += n;
  });
  return r;
}

// Everything the report shows, gathered after the runs.
struct BenchReport {
  const BenchArgs& args;
  const BenchModel& model;
  const DeviceProbe& device;
  const Engine& engine;
  MemoryReport memory;
  double load_s = 0;
  int validation_messages = 0;
  size_t pipelines_created_while_timed = 0;
  const BenchResults& results;
  const Profiles& profiles;
};

void PrintJson(const BenchReport& r) {
  const BenchArgs& a = r.args;
  const EngineOptions& o = a.options;
  const vk::DeviceCaps& caps = r.device.caps;
  const ReadBandwidth& rbw = r.device.read;
  const CopyBandwidth& bw = r.device.copy;
  const MemoryReport& mem = r.memory;
  const BenchResults& s = r.results;
  nlohmann::json j;
  j["schema"] = "vkgemma-bench/2";
  j["commit"] = VKG_GIT_COMMIT;
  j["device"] = caps.name;
  j["device_type"] = caps.type_name;
  j["vendor"] = caps.vendor;
  j["driver"] = caps.driver_name + " " + caps.driver_info;
  j["driver_version"] = caps.driver_version_string;
  j["api_version"] = caps.api_version_string;
  j["model"] = r.model.name;
  j["source"] = a.model_dir.empty() ? "synthetic" : "checkpoint";
  j["params"] = s.params;
  j["weights"] = std::string(DTypeName(*o.weights));
  j["kv_dtype"] = std::string(DTypeName(o.kv_dtype));
  j["prompt_tokens"] = a.prompt;
  j["gen_tokens"] = a.gen;
  j["reps"] = a.reps;
  j["ctx_depth"] = a.depth;
  j["context"] = mem.context;
  j["batch"] = mem.batch;
  j["pipelines_created_while_timed"] = r.pipelines_created_while_timed;
  j["checked"] = a.check.checked;
  j["check"] = a.check.ToJson();
  nlohmann::json by_op = nlohmann::json::object();  // the kernel each op kind ran (host/ops/plans/kernel_choice.h)
  for (const OpKernel& k : DescribeKernels(caps, o.kernels, o.features, r.engine.weights_format()))
    by_op[k.op] = k.kernel;
  j["kernels_by_op"] = by_op;
  j["replay_decode"] = o.replay_decode;
  j["kernels"] = o.kernels == KernelFamily::kGpu ? "gpu" : o.kernels == KernelFamily::kCpu ? "cpu" : "device";
  j["load_s"] = r.load_s;
  j["validation_messages"] = r.validation_messages;
  j["prefill_tok_s"] = ToJson(s.prefill);
  j["decode_tok_s"] = ToJson(s.decode);
  j["ttft_ms"] = ToJson(s.ttft_ms);
  j["decode_gbps"] = ToJson(s.gbps);
  j["decode_pct_bandwidth"] = ToJson(s.pct);
  j["decode_bytes_per_token"] = {{"weights", s.weight_read}, {"kv_cache", s.kv_read}, {"total", s.per_token}};
  j["memory_bytes"] = {{"weights", mem.weights},
                       {"kv_cache", mem.kv_cache},
                       {"scratch", mem.scratch},
                       {"total", mem.weights + mem.kv_cache + mem.scratch},
                       {"device_local_heap", caps.DeviceLocalBytes()}};
  j["bandwidth"] = {{"gbps", rbw.gbps},  {"method", "read_kernel"},          {"kernel", rbw.method},
                    {"counted", "read"}, {"buffer_bytes", rbw.bytes},        {"ranges", rbw.ranges},
                    {"reps", rbw.reps},  {"storage_gbps", rbw.storage_gbps}, {"texel_gbps", rbw.texel_gbps}};
  j["copy_bandwidth"] = {{"gbps", bw.gbps},
                         {"method", "vkCmdCopyBuffer"},
                         {"counted", "read+write"},
                         {"buffer_bytes", bw.bytes},
                         {"reps", bw.reps}};
  if (a.profile) j["profile"] = {{"prefill", ToJson(r.profiles.prefill)}, {"decode", ToJson(r.profiles.decode)}};
  std::printf("%s\n", j.dump(2).c_str());
}

void PrintText(const BenchReport& r) {
  const BenchArgs& a = r.args;
  const EngineOptions& o = a.options;
  const vk::DeviceCaps& caps = r.device.caps;
  const ReadBandwidth& rbw = r.device.read;
  const CopyBandwidth& bw = r.device.copy;
  const MemoryReport& mem = r.memory;
  const BenchResults& s = r.results;
  std::printf("vkgemma bench  commit %s\n", VKG_GIT_COMMIT);
  std::printf("device         %s (%s, vendor %s), driver %s %s, Vulkan %s\n", caps.name.c_str(), caps.type_name.c_str(),
              caps.vendor.c_str(), caps.driver_name.c_str(), caps.driver_info.c_str(), caps.api_version_string.c_str());
  std::printf("model          %s (%s, %.2f B parameters), weights %s, KV cache %s\n", r.model.name.c_str(),
              a.model_dir.empty() ? "synthetic weights at the real shapes" : "checkpoint", double(s.params) / 1e9,
              std::string(DTypeName(*o.weights)).c_str(), std::string(DTypeName(o.kv_dtype)).c_str());
  std::printf("run            -p %u -n %u -r %u --ctx-depth %u (context %u, batch %u, decode %s)%s; load %.1f s\n",
              a.prompt, a.gen, a.reps, a.depth, mem.context, mem.batch,
              o.replay_decode ? "replayed" : "recorded per step",
              a.prompt_set || a.gen_set || a.reps_set ? "" : " [defaults]", r.load_s);
  std::printf("memory         %.1f MiB: weights %.1f + KV cache %.1f + scratch %.1f (device-local heap %.0f MiB)\n",
              double(mem.weights + mem.kv_cache + mem.scratch) / 1048576.0, double(mem.weights) / 1048576.0,
              double(mem.kv_cache) / 1048576.0, double(mem.scratch) / 1048576.0,
              double(caps.DeviceLocalBytes()) / 1048576.0);
  std::printf(
      "bandwidth      read %.1f GB/s (compute kernel, %s loads, %.0f MiB); copy %.1f GB/s "
      "(vkCmdCopyBuffer %.0f MiB, counted read+write)\n",
      rbw.gbps, rbw.method.c_str(), double(rbw.bytes) / 1048576.0, bw.gbps, double(bw.bytes) / 1048576.0);
  std::printf("checked        %s\n",
              a.check.checked ? ("yes: the selftest of these kernels passed (" + std::to_string(a.check.cases) +
                                 " cases, " + (a.check.source == "cache" ? "cached" : "run now") + ")")
                                    .c_str()
                              : "NO (--no-check): these kernels were not checked against the CPU reference");
  std::printf("decode reads   %.1f MB per token: weights %.1f MB + KV cache %.1f MB\n\n", double(s.per_token) / 1e6,
              double(s.weight_read) / 1e6, double(s.kv_read) / 1e6);
  std::printf("| metric | median | min | max |\n|---|---:|---:|---:|\n");
  auto row = [](const char* name, const Stats& st, const char* fmt) {
    std::printf("| %s | ", name);
    std::printf(fmt, st.median);
    std::printf(" | ");
    std::printf(fmt, st.min);
    std::printf(" | ");
    std::printf(fmt, st.max);
    std::printf(" |\n");
  };
  row("prefill tok/s", s.prefill, "%.2f");
  row("decode tok/s", s.decode, "%.2f");
  row("time to first token ms", s.ttft_ms, "%.1f");
  row("decode GB/s", s.gbps, "%.2f");
  row("decode % of read bandwidth", s.pct, "%.1f");
  if (a.profile) {
    PrintProfile("prefill", r.profiles.prefill);
    PrintProfile("decode", r.profiles.decode);
  }
}

}  // namespace

int Bench(const std::vector<std::string>& args) {
  std::optional<BenchArgs> parsed = ParseBenchArgs(args);
  if (!parsed) return 0;  // --help
  BenchArgs& a = *parsed;
  if (a.audio_seconds > 0) {
    if (!a.model_dir.empty() || !a.shape.empty() || a.image_tokens)
      throw UsageError("--audio-seconds runs the audio tower on synthetic weights");
    if (!a.options.weights || *a.options.weights == DType::Q4_0) a.options.weights = DType::BF16;
    return RunAudioBench(a.audio_seconds, a.reps_set ? a.reps : 3, a.options, a.json);
  }
  if (a.image_tokens) {
    if (!a.model_dir.empty() || !a.shape.empty())
      throw UsageError("--image-tokens runs the tower on synthetic weights");
    if (!a.options.weights || *a.options.weights == DType::Q4_0) a.options.weights = DType::BF16;
    return RunImageBench(a.image_tokens, a.reps_set ? a.reps : 3, a.options, a.json);
  }
  ModelConfig config = ConfigOfArgs(a);
  const DeviceProbe device = ProbeDevice(a.options);
  BenchModel model = SizeModel(a, std::move(config), device.caps);
  a.options.context = model.context;
  // Only checked kernels are timed: their selftest at this model's shapes and format, or its
  // cached pass for this device, driver and build (on the engine's device below: one compile of
  // each pipeline for both).
  auto check = [&](const std::function<SelftestReport(const SelftestOptions&)>& run) {
    if (a.no_check) return;
    a.check =
        CheckBenchKernels(a.options.device, a.options.validation, device.caps, a.options.kernels, a.options.features,
                          model.name, model.config, *a.options.weights, a.options.kv_dtype, run);
  };
  if (!a.parallel.empty()) {
    check(nullptr);
    return RunParallel(a, model, device);
  }

  double load_s = 0;
  std::unique_ptr<Engine> engine = OpenEngine(a, model, &load_s);
  check([&](const SelftestOptions& so) { return engine->Selftest(so); });
  const ModelConfig& c = engine->config();
  const MemoryReport memory = engine->memory();
  const std::vector<int32_t> tokens = PromptTokens(a.prompt, c.vocab_size, a.seed);
  const std::vector<int32_t> filler = PromptTokens(a.depth, c.vocab_size, a.seed + 1);
  WarmUp(*engine, filler, tokens);
  const TimedRuns runs = TimeRuns(*engine, a, filler, tokens);
  const Profiles profiles = a.profile ? ProfileRun(*engine, tokens, std::min<uint32_t>(a.gen, 8)) : Profiles{};
  const int validation = WarnIfValidation(*engine, a.options);
  const BenchResults results = ComputeResults(runs, a, c, device.read.gbps);
  const BenchReport report{a,       model,   device, *engine, memory, load_s, validation, runs.pipelines_created,
                           results, profiles};
  if (a.json) {
    PrintJson(report);
  } else {
    PrintText(report);
  }
  return 0;
}

}  // namespace vkg::cli
