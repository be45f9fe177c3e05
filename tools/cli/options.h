// Command-line option parsing shared by the subcommands (layer: tools).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "host/runtime/engine.h"

namespace vkg::cli {

// A small declarative parser: each option names its spellings and what to do with its value.
// Unknown options, missing values and bad numbers throw UsageError (exit 2).
class OptionParser {
 public:
  explicit OptionParser(std::string command) : command_(std::move(command)) {}
  OptionParser& Value(std::vector<std::string> names, std::function<void(const std::string&)> set);
  OptionParser& Flag(std::vector<std::string> names, std::function<void()> set);
  // Parses args; returns positional arguments. --help/-h returns {"--help"} alone.
  std::vector<std::string> Parse(const std::vector<std::string>& args) const;

 private:
  struct Option {
    std::vector<std::string> names;
    bool takes_value;
    std::function<void(const std::string&)> set;
  };
  std::string command_;
  std::vector<Option> options_;
};

// The common shape of a model command: parses args; prints `usage` and the engine options and
// returns false for --help; throws UsageError for positional arguments or when --model is
// missing (model_dir is the string the parser fills).
// A checkpoint directory or a .gguf file (its first part) that exists; throws vkg::Error if not.
void CheckModelPath(const std::string& model);

bool ParseModelCommand(const OptionParser& parser, const std::vector<std::string>& args, const char* usage,
                       const std::string& command, const std::string& model_dir);

uint32_t ParseCount(const std::string& flag, const std::string& value, uint32_t min_value);
DType ParseWeights(const std::string& flag, const std::string& value);
// --kernels device|gpu|cpu (bench, selftest).
KernelFamily ParseKernels(const std::string& value);
// --int-dot auto|off|force (bench, selftest): KernelFeatures::integer_dot.
FeatureUse ParseIntDot(const std::string& value);
// --kv: a KV cache format (host/device/kv_cache.h: f32, f16, q8_0, q4_0).
DType ParseKvDType(const std::string& value);

// The engine options every model command shares: --model/-m, --mmproj, --device, --weights,
// --ctx, --batch, --kv. Registers them on the parser.
void AddEngineOptions(OptionParser& parser, std::string* model_dir, EngineOptions* options);
constexpr const char* kEngineOptionsHelp =
    "  -m, --model DIR     Hugging Face Gemma 4 checkpoint directory (config.json + safetensors)\n"
    "  --mmproj FILE       with a GGUF model: llama.cpp's vision projector GGUF (mmproj) for images\n"
    "  --device D          cpu (the CPU reference), a device index or a name substring\n"
    "                      (default: VKGEMMA_DEVICE, else the first of `vkgemma devices`)\n"
    "  --weights F         compute format of the weights: f32, bf16, f16, q8_0, q4_0 (default:\n"
    "                      the checkpoint's own dtype; a checkpoint mixing dtypes: f32)\n"
    "  --ctx N             context length (default: the largest that fits, at most 8192)\n"
    "  --batch N           prompt tokens per forward chunk (default 512 on GPUs, fewer when the\n"
    "                      memory is short; 64 on CPU devices)\n"
    "  --kv F              KV cache storage: f16 (default), q8_0, q4_0 (ggml's blocks along the head)\n"
    "                      or f32 (exact)\n";

// Sampling flags shared by run and chat. Each value is checked when parsed (bad ones are usage
// errors) and kept as a generation_config override: flag -> JSON key.
struct SamplingFlags {
  std::vector<std::pair<std::string, std::string>> overrides;  // JSON key, value
  uint64_t seed = 0;
  bool have_seed = false;
};
// Registers --temp, --top-k, --top-p, --min-p, --repeat-penalty and --seed.
void AddSamplingOptions(OptionParser& parser, SamplingFlags* flags);

// Loads a model with a progress bar on a terminal (quiet otherwise) and reports the load time,
// the compute format (and whether it is the checkpoint's own) and the memory on stderr.
std::unique_ptr<Engine> OpenEngineWithProgress(const std::string& model_dir, EngineOptions options);

}  // namespace vkg::cli
