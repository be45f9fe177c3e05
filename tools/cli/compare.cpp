// `vkgemma compare`: `vkgemma bench --json` results side by side, one column per file, so runs on
// different GPUs and vendors read as one table (layer: tools). Reads files only; needs no device.
#include <cstdio>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "host/error.h"
#include "tools/cli/commands.h"
#include "tools/cli/options.h"

namespace vkg::cli {
namespace {

constexpr const char* kUsage =
    "usage: vkgemma compare FILE.json [FILE.json ...]\n"
    "Prints `vkgemma bench --json` results side by side as a markdown table, one column per file:\n"
    "device, driver, whether the timed kernels passed their selftest, model and run, then the medians of prefill and "
    "decode tokens/s, time to first\n"
    "token, decode GB/s and percent of the device's own bandwidth (schema 2: a read kernel;\n"
    "schema 1: vkCmdCopyBuffer), device memory, and each\n"
    "run's decode speed relative to the first file's. Runs of different models, weight formats or\n"
    "lengths are flagged: their tokens/s do not compare, their percent of bandwidth does.\n";

// Schema 2 (read-kernel yardstick, copy_bandwidth beside it) and the older schema 1 (copy only).
constexpr const char* kSchema = "vkgemma-bench/2";
constexpr const char* kSchemaV1 = "vkgemma-bench/1";

struct Result {
  std::string file;
  nlohmann::json j;
};

Result Load(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot read '" + file + "'");
  std::stringstream text;
  text << in.rdbuf();
  Result r{file, nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false)};
  if (r.j.is_discarded() || !r.j.is_object()) throw Error("'" + file + "' is not a JSON object");
  if (!r.j.contains("schema") || (r.j["schema"] != kSchema && r.j["schema"] != kSchemaV1)) {
    throw Error("'" + file + "' is not a vkgemma bench result (schema \"" + std::string(kSchema) + "\" or \"" +
                std::string(kSchemaV1) + "\")");
  }
  for (const char* field : {"device", "model", "weights", "prefill_tok_s", "decode_tok_s", "ttft_ms", "decode_gbps",
                            "decode_pct_bandwidth", "memory_bytes", "bandwidth"}) {
    if (!r.j.contains(field)) throw Error("'" + file + "' lacks the field '" + std::string(field) + "'");
  }
  return r;
}

std::string Str(const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) return "";
  const nlohmann::json& v = j[key];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

double Median(const nlohmann::json& j, const char* key) {
  const nlohmann::json& v = j[key];
  if (v.is_object() && v.contains("median") && v["median"].is_number()) return v["median"].get<double>();
  if (v.is_number()) return v.get<double>();
  throw Error(std::string("a result's '") + key + "' has no median");
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

int Compare(const std::vector<std::string>& args) {
  OptionParser parser("compare");
  const auto files = parser.Parse(args);
  if (files.size() == 1 && files[0] == "--help") {
    std::printf("%s", kUsage);
    return 0;
  }
  if (files.empty()) throw UsageError("no result files given");
  std::vector<Result> runs;
  for (const std::string& f : files) runs.push_back(Load(f));

  using Cell = std::function<std::string(const nlohmann::json&)>;
  const std::vector<std::pair<std::string, Cell>> rows = {
      {"device", [](const auto& j) { return Str(j, "device") + " (" + Str(j, "device_type") + ")"; }},
      {"vendor", [](const auto& j) { return Str(j, "vendor"); }},
      {"driver", [](const auto& j) { return Str(j, "driver") + " " + Str(j, "driver_version"); }},
      {"vkgemma commit", [](const auto& j) { return Str(j, "commit"); }},
      // Whether the timed kernels passed their selftest first (bench/README.md); results from
      // before the check existed say "unknown".
      {"kernels checked",
       [](const auto& j) -> std::string {
         if (!j.contains("checked") || !j["checked"].is_boolean()) return "unknown";
         if (j["checked"] == false) return "**NO**";
         const std::string source = j.contains("check") ? j["check"].value("source", "") : "";
         return source == "cache" ? "yes (cached)" : "yes";
       }},
      {"model, weights, KV",
       [](const auto& j) { return Str(j, "model") + ", " + Str(j, "weights") + ", " + Str(j, "kv_dtype"); }},
      {"-p / -n / -r, depth",
       [](const auto& j) {
         return Str(j, "prompt_tokens") + " / " + Str(j, "gen_tokens") + " / " + Str(j, "reps") + ", " +
                Str(j, "ctx_depth");
       }},
      {"prefill tok/s", [](const auto& j) { return Fixed(Median(j, "prefill_tok_s"), 1); }},
      {"decode tok/s", [](const auto& j) { return Fixed(Median(j, "decode_tok_s"), 2); }},
      {"time to first token ms", [](const auto& j) { return Fixed(Median(j, "ttft_ms"), 1); }},
      {"decode GB/s", [](const auto& j) { return Fixed(Median(j, "decode_gbps"), 1); }},
      {"bandwidth GB/s (yardstick)",
       [](const auto& j) {
         const std::string m = j["bandwidth"].value("method", "");
         return Fixed(j["bandwidth"].value("gbps", 0.0), 1) + (m == "vkCmdCopyBuffer" ? " (copy)" : " (read)");
       }},
      {"decode % of bandwidth", [](const auto& j) { return Fixed(Median(j, "decode_pct_bandwidth"), 1); }},
      {"device memory MiB", [](const auto& j) { return Fixed(j["memory_bytes"].value("total", 0.0) / 1048576.0, 0); }},
  };

  std::printf("| |");
  for (const Result& r : runs) std::printf(" %s |", r.file.c_str());
  std::printf("\n|---|");
  for (size_t i = 0; i < runs.size(); ++i) std::printf("---:|");
  std::printf("\n");
  for (const auto& [name, cell] : rows) {
    std::printf("| %s |", name.c_str());
    for (const Result& r : runs) std::printf(" %s |", cell(r.j).c_str());
    std::printf("\n");
  }
  const double base = Median(runs[0].j, "decode_tok_s");
  std::printf("| decode vs the first |");
  for (const Result& r : runs)
    std::printf(" %sx |", base > 0 ? Fixed(Median(r.j, "decode_tok_s") / base, 2).c_str() : "-");
  std::printf("\n");

  // Tokens/s only compare between runs of the same work.
  auto work = [](const nlohmann::json& j) {
    return Str(j, "model") + "|" + Str(j, "weights") + "|" + Str(j, "prompt_tokens") + "|" + Str(j, "gen_tokens") +
           "|" + Str(j, "ctx_depth");
  };
  for (const Result& r : runs) {
    if (work(r.j) != work(runs[0].j)) {
      std::printf(
          "\nnote: the runs differ in model, weights, lengths or depth: compare their %% of bandwidth, "
          "not their tokens/s\n");
      break;
    }
  }
  return 0;
}

}  // namespace vkg::cli
