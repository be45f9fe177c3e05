// Device-memory budgets of the real checkpoints, from their exact configs (no device needed):
// the promise that the full E2B at q4_0 fits a 4 GiB GPU with an 8192-token context, and
// the default context (Scheduler::DefaultContext) per KV cache format.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "host/device/gpu_model.h"
#include "host/device/kv_cache.h"
#include "host/error.h"
#include "host/model/shapes.h"
#include "host/runtime/activations.h"
#include "host/runtime/scheduler.h"

namespace vkg::test {
namespace {

uint64_t Total(const ModelConfig& c, DType weights, uint32_t context, uint32_t batch) {
  return GpuModel::EstimateBytes(c, weights) + KvCache::Bytes(c, context, batch, DType::F16) +
         Activations::Bytes(c, batch, 8, context);
}

TEST(MemoryBudget, E2BAtQ4_0With8192ContextFitsA4GiBGpu) {
  const ModelConfig e2b = ShapeConfig("e2b");
  // At the GPU's default prompt chunk (512).
  const uint64_t total = Total(e2b, DType::Q4_0, 8192, Scheduler::kGpuBatch);
  std::printf("[ measured ] E2B q4_0 ctx 8192: weights %.3f GiB, KV %.3f GiB, scratch %.3f GiB, total %.3f GiB\n",
              double(GpuModel::EstimateBytes(e2b, DType::Q4_0)) / (1 << 30),
              double(KvCache::Bytes(e2b, 8192, Scheduler::kGpuBatch, DType::F16)) / (1 << 30),
              double(Activations::Bytes(e2b, Scheduler::kGpuBatch, 8, 8192)) / (1 << 30), double(total) / (1 << 30));
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

// A described device: its type and one device-local heap.
vk::DeviceCaps Described(VkPhysicalDeviceType type, uint64_t heap_bytes) {
  vk::DeviceCaps caps;
  caps.type = type;
  caps.heaps.push_back({heap_bytes, true});
  return caps;
}

TEST(MemoryBudget, PromptChunkIs512OnGpus64OnCpuDevicesAndShrinksWhenMemoryIsShort) {
  const ModelConfig e2b = ShapeConfig("e2b"), m31b = ShapeConfig("31b");
  const uint64_t e2b_q4 = GpuModel::EstimateBytes(e2b, DType::Q4_0),
                 m31b_q4 = GpuModel::EstimateBytes(m31b, DType::Q4_0);
  constexpr uint64_t GiB = uint64_t(1) << 30;
  EXPECT_EQ(Scheduler::DefaultBatch(e2b, Described(VK_PHYSICAL_DEVICE_TYPE_CPU, 2 * GiB), e2b_q4, DType::F16), 64u);
  EXPECT_EQ(Scheduler::DefaultBatch(e2b, Described(VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 8 * GiB), e2b_q4, DType::F16),
            512u);
  EXPECT_EQ(
      Scheduler::DefaultBatch(m31b, Described(VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 141 * GiB), m31b_q4, DType::F16),
      512u);
  // 31B q4_0 on a card where 512 rows of scratch do not fit beside the weights: the largest
  // halving that does, and never below 64 (the engine then refuses the model with its own message).
  const uint64_t s512 = Activations::Bytes(m31b, 512, 8, 256) + KvCache::Bytes(m31b, 256, 512, DType::F16);
  const uint64_t s256 = Activations::Bytes(m31b, 256, 8, 256) + KvCache::Bytes(m31b, 256, 256, DType::F16);
  ASSERT_GT(s512, s256);
  const uint64_t heap_for_256 = (m31b_q4 + s256) * 10 / 9 + 10;  // 90% of it holds 256 rows, not 512
  EXPECT_EQ(
      Scheduler::DefaultBatch(m31b, Described(VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, heap_for_256), m31b_q4, DType::F16),
      256u);
  EXPECT_EQ(
      Scheduler::DefaultBatch(m31b, Described(VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU, m31b_q4), m31b_q4, DType::F16),
      64u);
}

// The default context is the largest that fits: E2B (max 131072 positions) at q4_0 beside its
// scratch on a 4 GiB card keeps the whole context in q8_0 and q4_0 but not in f16 (3 full layers
// of 2 KiB per position in f16: 0.76 GiB at 131072); every answer is a multiple of 256 that fits
// while 256 more positions do not, and the smallest bound of heap, budget and limit applies.
TEST(MemoryBudget, DefaultContextIsTheLargestThatFitsWithTheChosenCache) {
  const ModelConfig e2b = ShapeConfig("e2b");
  constexpr uint64_t GiB = uint64_t(1) << 30;
  const uint64_t weights = GpuModel::EstimateBytes(e2b, DType::Q4_0);
  const uint32_t batch = Scheduler::kGpuBatch, max_ctx = uint32_t(e2b.max_position_embeddings);
  const uint64_t scratch = Activations::Bytes(e2b, batch, 8, max_ctx);
  const auto total = [&](uint32_t ctx, DType kv) { return weights + scratch + KvCache::Bytes(e2b, ctx, batch, kv); };
  for (uint64_t usable : {uint64_t(3) * GiB, GiB * 5 / 2, uint64_t(2) * GiB}) {
    std::map<DType, uint32_t> got;
    for (DType kv : {DType::F16, DType::Q8_0, DType::Q4_0}) {
      const Scheduler::DeviceRoom room = Scheduler::UsableDeviceMemory(64 * GiB, 0, usable);  // the limit binds
      ASSERT_EQ(room.usable, usable);
      const Scheduler::ContextChoice ch = Scheduler::DefaultContext(e2b, room, "a GPU", weights, scratch, batch, kv);
      SCOPED_TRACE(std::string(DTypeName(kv)) + " in " + std::to_string(usable >> 20) + " MiB: " + ch.reason);
      got[kv] = ch.context;
      EXPECT_LE(total(ch.context, kv), usable);
      if (ch.context < max_ctx) {
        EXPECT_EQ(ch.context % 256, 0u);
        EXPECT_GT(total(ch.context + 256, kv), usable);
        EXPECT_NE(ch.reason.find("the largest that fits"), std::string::npos);
      } else {
        EXPECT_EQ(ch.context, max_ctx);
        EXPECT_EQ(ch.reason.rfind("the model's maximum", 0), 0u);
      }
    }
    std::printf("[ measured ] E2B q4_0 weights, %.2f GiB usable: default context f16 %u, q8_0 %u, q4_0 %u\n",
                double(usable) / GiB, got[DType::F16], got[DType::Q8_0], got[DType::Q4_0]);
    EXPECT_LE(got[DType::F16], got[DType::Q8_0]);
    EXPECT_LE(got[DType::Q8_0], got[DType::Q4_0]);
  }
  // Not even 256 positions: one line naming the sizes.
  try {
    Scheduler::DefaultContext(e2b, Scheduler::DeviceRoom{weights, "test"}, "a GPU", weights, scratch, batch,
                              DType::F16);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("the model does not fit a GPU: weights need ", 0), 0u) << e.what();
  }
  // The smallest of 90% of the heap, the budget and the limit; 0 = not known / none.
  EXPECT_EQ(Scheduler::UsableDeviceMemory(10 * GiB, 0, 0).usable, 9 * GiB);
  EXPECT_EQ(Scheduler::UsableDeviceMemory(10 * GiB, 6 * GiB, 0).bound, "the heap's budget");
  EXPECT_EQ(Scheduler::UsableDeviceMemory(10 * GiB, 6 * GiB, 0).usable, 6 * GiB);
  EXPECT_EQ(Scheduler::UsableDeviceMemory(10 * GiB, 6 * GiB, 5 * GiB).usable, 5 * GiB);
  EXPECT_EQ(Scheduler::UsableDeviceMemory(10 * GiB, 20 * GiB, 0).usable, 9 * GiB);
}

}  // namespace
}  // namespace vkg::test
