// The selftest report as JSON (schema vkgemma-selftest/1): `vkgemma selftest --json` and the
// passing results bench caches per device, driver and build (layer: tools).
#pragma once
#include <nlohmann/json_fwd.hpp>

#include "host/runtime/selftest.h"

namespace vkg::cli {

nlohmann::json SelftestJson(const SelftestReport& report);

}  // namespace vkg::cli
