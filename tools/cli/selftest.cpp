// `vkgemma selftest`: checks every kernel variant the engine would run on a device against the CPU
// reference at real model shapes (host/runtime/selftest.h), as a table or JSON (layer: tools).
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host/model/shapes.h"
#include "host/runtime/selftest.h"
#include "tools/cli/commands.h"
#include "tools/cli/options.h"
#include "tools/cli/selftest_json.h"

namespace vkg::cli {
namespace {

constexpr const char* kUsage =
    "usage: vkgemma selftest [--device D] [--kernels device|gpu|cpu] [--shape S[,S...]] [--weights F[,F...]]\n"
    "                        [--kv F[,F...]] [--int-dot auto|off|force] [--coopmat auto|off|emulate]\n"
    "                        [--ops S] [--quick] [--seed N] [--json]\n"
    "Runs every kernel variant the engine would run on the device (the same host ops and kernel\n"
    "choice as the forward pass: weight formats, the GPU or CPU kernel family, integer-dot and\n"
    "matrix-unit products where the device has them, decode attention as the replayed step records\n"
    "it, batched decode attention, prefill attention with windows, rings, K=V and grouped heads, on\n"
    "f16, q8_0 and q4_0 KV caches, the row norms) at the real\n"
    "shapes of the built-in models, on seeded random inputs, against the CPU reference; prints\n"
    "kernel, shape, error (NMSE), largest absolute error, tolerance and pass per case, and exits 1\n"
    "if any case fails.\n"
    "  --device D        a device index or name substring (default: VKGEMMA_DEVICE, else the first)\n"
    "  --kernels F       device (default: the device kind's family), gpu or cpu\n"
    "  --shape S         built-in shapes whose operations run (default: all of them; distinct\n"
    "                    operations once). Huge matrices run a sample of their rows (said in the shape)\n"
    "  --weights F       weight formats of the products (default q4_0,q8_0,bf16; --quick: q4_0)\n"
    "  --kv F            KV cache formats of the attention cases (default f16,q8_0,q4_0)\n"
    "  --int-dot M       integer-dot products: auto (where the device accelerates them), off, force\n"
    "  --coopmat M       matrix-unit products and prefill attention: auto (where the device has f16\n"
    "                    units), off, or emulate (on emulated fragments wherever the GPU family runs:\n"
    "                    checks those kernels on devices without units; not for speed)\n"
    "  --ops S           only the cases whose op contains S (e.g. attention, product, norm)\n"
    "  --quick           smaller samples (rows, prefill tokens, context): CI on a CPU device\n"
    "  --seed N          input seed (default 1)\n"
    "  --json            one JSON object (schema vkgemma-selftest/1) instead of the table\n";

std::vector<std::string> SplitList(const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    const size_t comma = v.find(',', start);
    const std::string item = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

void PrintRow(const SelftestCase& c) {
  std::printf("| %s | %s | %s | %s | %.3g | %.3g | %.0e | %s | %.2f |\n", c.op.c_str(), c.kernels.c_str(),
              c.shape.c_str(), c.models.c_str(), c.error, c.max_abs, c.tolerance, c.pass ? "pass" : "FAIL", c.seconds);
  std::fflush(stdout);
}

}  // namespace

int Selftest(const std::vector<std::string>& args) {
  SelftestOptions o;
  bool json = false;
  OptionParser parser("selftest");
  parser.Value({"--device"}, [&](const std::string& v) { o.device = v; })
      .Value({"--kernels"}, [&](const std::string& v) { o.kernels = ParseKernels(v); })
      .Value({"--shape"},
             [&](const std::string& v) {
               for (const std::string& s : SplitList(v)) {
                 bool known = false;
                 std::string valid;
                 for (const std::string& n : ShapeNames()) known |= n == s, valid += (valid.empty() ? "" : ", ") + n;
                 if (!known) throw UsageError("unknown shape '" + s + "' (valid: " + valid + ")");
                 o.shapes.push_back(s);
               }
             })
      .Value({"--weights"},
             [&](const std::string& v) {
               for (const std::string& f : SplitList(v)) o.formats.push_back(ParseWeights("--weights", f));
             })
      .Value({"--kv"},
             [&](const std::string& v) {
               for (const std::string& f : SplitList(v)) o.kv_formats.push_back(ParseKvDType(f));
             })
      .Value({"--coopmat"},
             [&](const std::string& v) {
               if (v == "auto")
                 o.features.cooperative_matrix = FeatureUse::kAuto;
               else if (v == "off")
                 o.features.cooperative_matrix = FeatureUse::kOff;
               else if (v == "emulate")
                 o.features.emulate_cooperative_matrix = true;
               else
                 throw UsageError("--coopmat must be auto, off or emulate, not '" + v + "'");
             })
      .Value({"--int-dot"}, [&](const std::string& v) { o.features.integer_dot = ParseIntDot(v); })
      .Value({"--ops"}, [&](const std::string& v) { o.ops = v; })
      .Value({"--seed"}, [&](const std::string& v) { o.seed = ParseCount("--seed", v, 0); })
      .Flag({"--quick"}, [&] { o.quick = true; })
      .Flag({"--json"}, [&] { json = true; });
  const auto positional = parser.Parse(args);
  if (positional.size() == 1 && positional[0] == "--help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!positional.empty()) throw UsageError("unexpected argument '" + positional[0] + "'");
  if (const char* p = std::getenv("VKGEMMA_SELFTEST_PERTURB")) o.perturb = p;  // tests only
  if (const char* v = std::getenv("VKGEMMA_VALIDATION")) o.validation = std::string(v) == "1";

  if (!json) {
    std::printf("| op | kernels | shape | models | error (NMSE) | max abs | tolerance | pass | s |\n");
    std::printf("|---|---|---|---|---:|---:|---:|---|---:|\n");
  }
  const SelftestReport report = RunSelftest(o, json ? std::function<void(const SelftestCase&)>{} : PrintRow);
  const std::vector<std::string> failed = report.failed();
  if (json) {
    std::printf("%s\n", SelftestJson(report).dump(2).c_str());
  } else {
    std::printf("\nselftest on %s (%s kernels, driver %s): %zu cases, %s in %.1f s\n", report.device.c_str(),
                report.kernels.c_str(), report.driver.c_str(), report.cases.size(),
                report.passed() ? "all passed" : (std::to_string(failed.size()) + " FAILED").c_str(), report.seconds);
  }
  for (const std::string& f : failed) std::fprintf(stderr, "selftest: FAILED %s\n", f.c_str());
  return report.passed() ? 0 : 1;
}

}  // namespace vkg::cli
