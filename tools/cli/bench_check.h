// Benchmarks time only checked kernels: before timing, bench runs the selftest of the kernels it is
// about to run (its model's shapes, its weight format, kernel family and features), or reuses a
// passing result cached per device, driver and build (layer: tools).
#pragma once
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "host/formats/dtype.h"
#include "host/model/config.h"
#include "host/ops/kernel_family.h"
#include "host/runtime/selftest.h"
#include "vk/caps.h"

namespace vkg::cli {

struct BenchCheck {
  bool checked = false;        // the selftest of these kernels passed (now or cached)
  std::string source = "off";  // "run", "cache" or "off" (--no-check)
  size_t cases = 0;
  double seconds = 0;  // the selftest's time (the cached run's, when reused)
  std::string cache_file;
  nlohmann::json ToJson() const;
};

// Runs (or reuses) the selftest of `config` in `format`, attention on a `kv` cache, on the device; throws vkg::Error naming
// every failing kernel when it fails. CPU devices run it with --quick's samples. Without a cache
// directory ($XDG_CACHE_HOME or $HOME, and VKGEMMA_NO_DISK_CACHE unset) it always runs.
// `run` runs the selftest (Engine::Selftest on the engine to be timed: its pipelines are then
// compiled once), or is empty for a device of its own (RunSelftest).
BenchCheck CheckBenchKernels(const std::string& device, bool validation, const vk::DeviceCaps& caps,
                             KernelFamily kernels, const KernelFeatures& features, const std::string& model_name,
                             const ModelConfig& config, DType format, DType kv,
                             const std::function<SelftestReport(const SelftestOptions&)>& run = nullptr);

}  // namespace vkg::cli
