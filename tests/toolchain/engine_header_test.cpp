// The public engine header (host/runtime/engine.h) includes no Vulkan header: the CLI, the server
// and any embedding program see Engine, EngineOptions and their enums without Vulkan. Checked at
// compile time: this file includes it first and fails to build if Vulkan's core header came with it.
#include "host/runtime/engine.h"

#if defined(VULKAN_CORE_H_) || defined(VULKAN_H_)
#error "host/runtime/engine.h pulls in a Vulkan header"
#endif

#include <gtest/gtest.h>

namespace vkg {
namespace {

TEST(EngineHeader, NamesItsOptionsWithoutVulkan) {
  EngineOptions options;
  EXPECT_EQ(options.kernels, KernelFamily::kDevice);
  EXPECT_EQ(options.features.integer_dot, FeatureUse::kAuto);
  EXPECT_EQ(options.kv_dtype, DType::F16);
}

}  // namespace
}  // namespace vkg
