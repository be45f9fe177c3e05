// Device-memory budgets of the real checkpoints, from their exact configs (no device needed):
// the promise that the full E2B at q4_0 fits a 4 GiB GPU with an 8192-token context.
#include <gtest/gtest.h>

#include "host/activations.h"
#include "host/gpu_model.h"
#include "host/kv_cache.h"
#include "host/model/shapes.h"

namespace vkg::test {
namespace {

uint64_t Total(const ModelConfig& c, DType weights, uint32_t context, uint32_t batch) {
  return GpuModel::EstimateBytes(c, weights) + KvCache::Bytes(c, context, batch, DType::F16) +
         Activations::Bytes(c, batch, 8, context);
}

TEST(MemoryBudget, E2BAtQ4_0With8192ContextFitsA4GiBGpu) {
  const ModelConfig e2b = ShapeConfig("e2b");
  const uint64_t total = Total(e2b, DType::Q4_0, 8192, 64);
  std::printf("[ measured ] E2B q4_0 ctx 8192: weights %.3f GiB, KV %.3f GiB, scratch %.3f GiB, total %.3f GiB\n",
              double(GpuModel::EstimateBytes(e2b, DType::Q4_0)) / (1 << 30),
              double(KvCache::Bytes(e2b, 8192, 64, DType::F16)) / (1 << 30),
              double(Activations::Bytes(e2b, 64, 8, 8192)) / (1 << 30), double(total) / (1 << 30));
  // A 4 GiB card leaves some memory to the driver and display: require 10% headroom.
  EXPECT_LT(double(total), 0.9 * double(uint64_t(4) << 30));
}

TEST(MemoryBudget, KvCacheOnlyForOwningLayersAndRingsForSlidingOnes) {
  const ModelConfig e2b = ShapeConfig("e2b");
  // E2B: 15 layers own KV (3 full: 4, 9, 14; 12 sliding with a ring of 512 + 64 - 1), 1 KV head.
  const uint64_t full = 3ull * 2 * 8192 * 1 * 512 * 2, sliding = 12ull * 2 * (512 + 63) * 1 * 256 * 2;
  EXPECT_EQ(KvCache::Bytes(e2b, 8192, 64, DType::F16), full + sliding);
  EXPECT_EQ(KvCache::BytesPerContextToken(e2b, DType::F16), 3ull * 2 * 512 * 2);
}

}  // namespace
}  // namespace vkg::test
