// Hours without growth, in small: 6000 generated tokens on the Vulkan device (lavapipe) through a
// context of 64 positions with --context-shift's policy, so the sliding-window rings (window 8)
// wrap 750 times and the context is shifted (truncated or reset, evaluated again) 239 times;
// after warm-up the process holds exactly the same device memory, texel views and descriptors,
// and its resident memory stays within 1 MiB. Tests named Gpu* need a device.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "host/runtime/engine.h"
#include "host/runtime/generate.h"
#include "tests/soak_util.h"

namespace vkg {
namespace {

constexpr uint32_t kContext = 64, kTokens = 6000, kWarmUp = 1000, kEvery = 500;

TEST(GpuSoak, SixThousandTokensThroughShiftsAndRingsAllocateNothingAfterWarmUp) {
  EngineOptions eo;
  eo.context = kContext;
  auto engine = Engine::Open((std::filesystem::path(VKG_TEST_DATA_DIR) / "gemma4-tiny/dense").string(), eo);
  ASSERT_EQ(engine->memory().context, kContext);
  // <bos> and 15 byte tokens of the tiny vocabulary (ids 9..255 are bytes).
  std::vector<int32_t> prompt = {2};
  for (char c : std::string("Once upon a tim")) prompt.push_back(int32_t(uint8_t(c)));

  // Texel views of activations are a per-shape cache (host/ops/matmul.cpp: one per product input
  // and prompt length, at most --batch lengths), created on first use. A shift evaluates the kept
  // tokens as a prompt of whatever length is left after the prefix the cache still holds, at most
  // 16 + 23 + 1 (below), so the warm-up evaluates every length up to that once.
  for (uint32_t n = 1; n <= 40; ++n) {
    engine->Reset();
    engine->Forward(std::vector<int32_t>(n, 'a'), /*all_logits=*/false);
  }
  engine->Reset();

  GenerateOptions o;
  o.sampling.temperature = 1.0f;  // sampled: greedy on random weights may settle in a loop
  o.sampling.seed = 7;
  o.max_tokens = kTokens;
  o.stop_ids = {};  // --ignore-eos
  o.context_shift = [&](std::span<const int32_t> held) {
    return KeepPrefixDropOldestHalf(held, prompt.size(), kContext);
  };
  std::vector<test::ProcessUsage> samples;
  size_t n = 0;
  const GenerateStats s = Generate(*engine, prompt, o, [&](int32_t) {
    if (++n >= kWarmUp && n % kEvery == 0) samples.push_back(test::MeasureProcess());
  });
  samples.push_back(test::MeasureProcess());

  ASSERT_EQ(s.stop, StopReason::kMaxTokens);
  ASSERT_EQ(s.tokens.size(), kTokens);
  // Each shift keeps the 16 prompt tokens and (64 - 16 - 1) / 2 = 23 of the reply, then evaluates
  // the sampled token: 40 positions, 24 left, so one shift per 25 tokens after the first 48.
  EXPECT_EQ(s.context_shifts, (kTokens - 48 - 1) / 25 + 1);
  EXPECT_EQ(engine->validation_messages(), 0);

  const test::ProcessUsage& warm = samples.front();
  for (const test::ProcessUsage& u : samples) {
    SCOPED_TRACE(::testing::Message() << "warm: " << warm << "\nnow:  " << u);
    EXPECT_EQ(u.device.memory_objects, warm.device.memory_objects);
    EXPECT_EQ(u.device.memory_bytes, warm.device.memory_bytes);
    EXPECT_EQ(u.device.texel_views, warm.device.texel_views);
    EXPECT_EQ(u.open_fds, warm.open_fds);
    // Resident memory: the allocator may touch a few more pages of what it already holds; a leak
    // of 200 bytes per token would be 1 MiB over these 5000 tokens.
    EXPECT_LE(u.rss_bytes, warm.rss_bytes + (1u << 20));
  }
  std::printf("soak: %zu tokens, %u context shifts (%zu tokens evaluated again), first %s, last %s\n", s.tokens.size(),
              s.context_shifts, s.shift_tokens, (::testing::Message() << warm).GetString().c_str(),
              (::testing::Message() << samples.back()).GetString().c_str());
}

}  // namespace
}  // namespace vkg
