// Bench's kernel check and its cache (layer: tools).
#include "tools/cli/bench_check.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "host/error.h"
#include "tools/cli/selftest_json.h"

#include "git_commit.h"

namespace vkg::cli {
namespace {

// $XDG_CACHE_HOME/vkgemma/selftest (or ~/.cache/...), where the pipeline cache lives too; empty
// when there is none or VKGEMMA_NO_DISK_CACHE turns disk caches off.
std::string CacheDir() {
  const char* off = std::getenv("VKGEMMA_NO_DISK_CACHE");
  if (off && *off && std::strcmp(off, "0") != 0) return {};
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/vkgemma/selftest";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/vkgemma/selftest";
  return {};
}

// 64-bit FNV-1a of the key text: the cache file's name.
uint64_t Fnv(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// Everything a passing result depends on: device, driver, build, and what was checked.
std::string Key(const vk::DeviceCaps& caps, KernelFamily kernels, const KernelFeatures& f,
                const std::string& model_name, const ModelConfig& c, DType format, DType kv, bool quick) {
  std::ostringstream k;
  k << caps.name << '|' << caps.vendor << '|' << caps.driver_name << '|' << caps.driver_info << '|'
    << caps.driver_version << '|' << VKG_GIT_COMMIT << '|' << int(kernels) << '|' << int(f.integer_dot) << '|'
    << int(f.cooperative_matrix) << '|' << f.emulate_cooperative_matrix << '|' << model_name << '|' << c.hidden_size
    << '|' << c.num_hidden_layers << '|' << c.num_attention_heads << '|' << c.head_dim << '|' << c.vocab_size << '|'
    << c.intermediate_size << '|' << DTypeName(format) << '|' << DTypeName(kv) << '|' << quick;
  return k.str();
}

}  // namespace

nlohmann::json BenchCheck::ToJson() const {
  nlohmann::json j = {{"source", source}, {"cases", cases}, {"seconds", seconds}};
  if (!cache_file.empty()) j["cache_file"] = cache_file;
  return j;
}

BenchCheck CheckBenchKernels(const std::string& device, bool validation, const vk::DeviceCaps& caps,
                             KernelFamily kernels, const KernelFeatures& features, const std::string& model_name,
                             const ModelConfig& config, DType format, DType kv,
                             const std::function<SelftestReport(const SelftestOptions&)>& run) {
  const bool quick = caps.type == VK_PHYSICAL_DEVICE_TYPE_CPU;
  BenchCheck check;
  const std::string dir = CacheDir();
  const std::string key = Key(caps, kernels, features, model_name, config, format, kv, quick);
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.json", static_cast<unsigned long long>(Fnv(key)));
  if (!dir.empty()) {
    check.cache_file = dir + "/" + name;
    std::ifstream in(check.cache_file);
    if (in) {
      const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
      if (j.is_object() && j.value("key", "") == key && j.value("passed", false)) {
        check.checked = true;
        check.source = "cache";
        check.cases = j.contains("cases") && j["cases"].is_array() ? j["cases"].size() : 0;
        check.seconds = j.value("seconds", 0.0);
        return check;
      }
    }
  }
  SelftestOptions o;
  o.device = device;
  o.validation = validation;
  o.kernels = kernels;
  o.features = features;
  o.models = {{model_name, config}};
  o.formats = {format};
  o.kv_formats = {kv};
  o.quick = quick;
  std::fprintf(stderr, "checking the kernels this benchmark times (vkgemma selftest%s) ...\n", quick ? " --quick" : "");
  const SelftestReport report = run ? run(o) : RunSelftest(o);
  if (!report.passed()) {
    std::string failed;
    for (const std::string& f : report.failed()) failed += (failed.empty() ? "" : "; ") + f;
    throw Error("the selftest of the kernels to be timed failed on " + report.device + ": " + failed +
                " (bench --no-check times them anyway, marked \"checked\": false)");
  }
  check.checked = true;
  check.source = "run";
  check.cases = report.cases.size();
  check.seconds = report.seconds;
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    nlohmann::json j = SelftestJson(report);
    j["key"] = key;
    std::ofstream out(check.cache_file);
    if (out) out << j.dump(1) << "\n";  // a cache that cannot be written only costs a rerun
  }
  return check;
}

}  // namespace vkg::cli
