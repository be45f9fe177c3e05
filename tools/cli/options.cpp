// Option parsing and engine loading shared by the subcommands (layer: tools).
#include "tools/cli/options.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "host/device/kv_cache.h"
#include "host/error.h"
#include "host/model/gguf/gguf_file.h"
#include "host/text/generation_config.h"
#include "tools/cli/commands.h"

namespace vkg::cli {

OptionParser& OptionParser::Value(std::vector<std::string> names, std::function<void(const std::string&)> set) {
  options_.push_back({std::move(names), true, std::move(set)});
  return *this;
}

OptionParser& OptionParser::Flag(std::vector<std::string> names, std::function<void()> set) {
  options_.push_back({std::move(names), false, [set](const std::string&) { set(); }});
  return *this;
}

std::vector<std::string> OptionParser::Parse(const std::vector<std::string>& args) const {
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") return {"--help"};
    if (a.size() > 1 && a[0] == '-' && a != "-") {
      // --name=value is accepted as well as --name value.
      std::string name = a, value;
      bool inline_value = false;
      if (const size_t eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
        inline_value = true;
      }
      const Option* match = nullptr;
      for (const Option& o : options_) {
        for (const std::string& n : o.names) {
          if (n == name) match = &o;
        }
      }
      if (!match) throw UsageError("unknown option '" + name + "' for " + command_);
      if (match->takes_value && !inline_value) {
        if (i + 1 >= args.size()) throw UsageError("option '" + name + "' needs a value");
        value = args[++i];
      } else if (!match->takes_value && inline_value) {
        throw UsageError("option '" + name + "' takes no value");
      }
      match->set(value);
    } else {
      positional.push_back(a);
    }
  }
  return positional;
}

bool ParseModelCommand(const OptionParser& parser, const std::vector<std::string>& args, const char* usage,
                       const std::string& command, const std::string& model_dir) {
  const auto positional = parser.Parse(args);
  if (positional.size() == 1 && positional[0] == "--help") {
    std::fputs(usage, stdout);
    std::fputs(kEngineOptionsHelp, stdout);
    return false;
  }
  if (!positional.empty()) throw UsageError("unexpected argument '" + positional[0] + "'");
  if (model_dir.empty()) throw UsageError(command + " needs --model DIR");
  return true;
}

void CheckModelPath(const std::string& model) {
  if (IsGgufPath(model)) {
    if (!std::filesystem::is_regular_file(model)) throw Error("model file '" + model + "' does not exist");
    return;
  }
  if (!std::filesystem::is_directory(model)) throw Error("model directory '" + model + "' does not exist");
}

uint32_t ParseCount(const std::string& flag, const std::string& value, uint32_t min_value) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || value[0] == '-' || v < min_value || v > 0x7fffffffull) {
    throw UsageError(flag + " needs a whole number >= " + std::to_string(min_value) + ", got '" + value + "'");
  }
  return uint32_t(v);
}

DType ParseWeights(const std::string& flag, const std::string& value) {
  DType t;
  if (!ParseDType(value, &t)) {
    throw UsageError(
        flag + " must be one of f32, bf16, f16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k; got '" +
        value + "'");
  }
  return t;
}

DType ParseKvDType(const std::string& value) {
  DType t{};
  if (!ParseDType(value, &t) || !IsKvCacheDType(t))
    throw UsageError("--kv must be f16, q8_0, q4_0 or f32, not '" + value + "'");
  return t;
}

KernelFamily ParseKernels(const std::string& value) {
  if (value == "device") return KernelFamily::kDevice;
  if (value == "gpu") return KernelFamily::kGpu;
  if (value == "cpu") return KernelFamily::kCpu;
  throw UsageError("--kernels must be device, gpu or cpu, not '" + value + "'");
}

FeatureUse ParseIntDot(const std::string& value) {
  if (value == "auto") return FeatureUse::kAuto;
  if (value == "off") return FeatureUse::kOff;
  if (value == "force") return FeatureUse::kForce;
  throw UsageError("--int-dot must be auto, off or force, not '" + value + "'");
}

void AddEngineOptions(OptionParser& parser, std::string* model_dir, EngineOptions* options) {
  parser.Value({"-m", "--model"}, [model_dir](const std::string& v) { *model_dir = v; })
      .Value({"--device"}, [options](const std::string& v) { options->device = v; })
      .Value({"--mmproj"}, [options](const std::string& v) { options->mmproj = v; })
      .Value({"--weights"}, [options](const std::string& v) { options->weights = ParseWeights("--weights", v); })
      .Value({"--ctx"}, [options](const std::string& v) { options->context = ParseCount("--ctx", v, 1); })
      .Value({"--batch"}, [options](const std::string& v) { options->batch = ParseCount("--batch", v, 1); })
      .Value({"--kv"}, [options](const std::string& v) { options->kv_dtype = ParseKvDType(v); });
}

void AddSamplingOptions(OptionParser& parser, SamplingFlags* flags) {
  constexpr std::pair<const char*, const char*> kFlags[] = {{"--temp", "temperature"},
                                                            {"--top-k", "top_k"},
                                                            {"--top-p", "top_p"},
                                                            {"--min-p", "min_p"},
                                                            {"--repeat-penalty", "repetition_penalty"}};
  for (const auto& [flag, key] : kFlags) {
    parser.Value({flag}, [flags, flag = std::string(flag), key = std::string(key)](const std::string& v) {
      try {
        GenerationConfig().Override(key, v, flag);  // checks the value now
      } catch (const Error& e) {
        throw UsageError(e.what());
      }
      flags->overrides.push_back({key, v});
    });
  }
  parser.Value({"--seed"}, [flags](const std::string& v) {
    char* end = nullptr;
    const unsigned long long seed = std::strtoull(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || v[0] == '-') throw UsageError("--seed needs a whole number >= 0, got '" + v + "'");
    flags->seed = uint64_t(seed);
    flags->have_seed = true;
  });
}

namespace {

// "f16, the checkpoint's own" or "q4_0 from the checkpoint's bf16": what the weights compute from,
// said at every load (the CPU reference computes in f32 from the checkpoint's values).
std::string FormatNote(const Engine& engine) {
  std::string note(DTypeName(engine.weights_format()));
  if (engine.weights_formats() != note) return engine.weights_formats() + ", each matrix in its stored type";
  if (const std::optional<DType> own = engine.stored_format()) {
    note += *own == engine.weights_format() ? ", the checkpoint's own"
                                            : " from the checkpoint's " + std::string(DTypeName(*own));
  }
  return note;
}

}  // namespace

std::unique_ptr<Engine> OpenEngineWithProgress(const std::string& model_dir, EngineOptions options) {
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  if (tty) {
    options.progress = [](uint64_t done, uint64_t total) {
      static int last = -1;
      const int pct = total ? int(done * 100 / total) : 100;
      if (pct == last) return;
      last = pct;
      const int filled = pct * 30 / 100;
      std::fprintf(stderr, "\rloading [%.*s%*s] %3d%%  %.2f / %.2f GB", filled, "##############################",
                   30 - filled, "", pct, double(done) / 1e9, double(total) / 1e9);
      std::fflush(stderr);
    };
  }
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<Engine> engine = Engine::Open(model_dir, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const MemoryReport m = engine->memory();
  if (tty) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr,
               "loaded %s on %s in %.2f s: weights %.1f MiB (%s), KV cache %.1f MiB (%s) for %u positions "
               "(%s), scratch %.1f MiB\n",
               model_dir.c_str(), engine->device_name().c_str(), seconds, double(m.weights) / 1048576.0,
               FormatNote(*engine).c_str(), double(m.kv_cache) / 1048576.0,
               std::string(DTypeName(options.kv_dtype)).c_str(), m.context, m.context_reason.c_str(),
               double(m.scratch) / 1048576.0);
  return engine;
}

}  // namespace vkg::cli
