// Selftest JSON (layer: tools).
#include "tools/cli/selftest_json.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "git_commit.h"

namespace vkg::cli {
namespace {

// JSON has no infinity: a non-finite error (NaN or Inf in the output) is written as null.
nlohmann::json Number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

nlohmann::json SelftestJson(const SelftestReport& r) {
  nlohmann::json j;
  j["schema"] = "vkgemma-selftest/1";
  j["commit"] = VKG_GIT_COMMIT;
  j["device"] = r.device;
  j["device_type"] = r.device_type;
  j["driver"] = r.driver;
  j["driver_version"] = r.driver_version;
  j["kernels"] = r.kernels;
  j["seconds"] = r.seconds;
  j["passed"] = r.passed();
  nlohmann::json cases = nlohmann::json::array();
  for (const SelftestCase& c : r.cases) {
    cases.push_back({{"op", c.op},
                     {"kernels", c.kernels},
                     {"shape", c.shape},
                     {"models", c.models},
                     {"reference", c.reference},
                     {"error", Number(c.error)},
                     {"max_abs", Number(c.max_abs)},
                     {"tolerance", c.tolerance},
                     {"checked", c.checked},
                     {"pass", c.pass},
                     {"seconds", c.seconds}});
  }
  j["cases"] = cases;
  return j;
}

}  // namespace vkg::cli
