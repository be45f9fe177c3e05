// The vk/ layer itself: device ordering and selection, block allocation, chunked staging
// transfers, the on-disk pipeline cache, timestamps and error messages.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "host/ops/fill.h"
#include "shaders/shader_table.h"
#include "tests/test_util.h"
#include "vk/check.h"
#include "vk/device.h"
#include "vk/query.h"
#include "vk/transfer.h"

namespace vkg::test {
namespace {

vk::PhysicalDeviceEntry Fake(const char* name, VkPhysicalDeviceType type, uint8_t uuid, uint32_t bus) {
  vk::PhysicalDeviceEntry e;
  e.caps.name = name;
  e.caps.type = type;
  e.caps.api_version = VK_API_VERSION_1_3;
  e.caps.device_uuid[0] = uuid;
  e.caps.has_pci_bus = bus != 0;
  e.caps.pci_bus = bus;
  return e;
}

TEST(DeviceSelection, DefaultOrderAndDeduplication) {
  std::vector<vk::PhysicalDeviceEntry> in = {
      Fake("llvmpipe", VK_PHYSICAL_DEVICE_TYPE_CPU, 1, 0),
      Fake("Intel UHD", VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU, 2, 2),
      Fake("AMD RADV", VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 3, 3),
      Fake("AMD AMDVLK", VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 4, 3),  // same GPU, second driver
      Fake("Old", VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 5, 5),
  };
  in.back().caps.api_version = VK_API_VERSION_1_1;  // too old: not listed
  const auto out = vk::OrderAndDeduplicate(in);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].caps.name, "AMD RADV");
  EXPECT_EQ(out[1].caps.name, "Intel UHD");
  EXPECT_EQ(out[2].caps.name, "llvmpipe");
}

TEST(DeviceSelection, ByIndexNameAndErrors) {
  const std::vector<vk::PhysicalDeviceEntry> d = {Fake("NVIDIA H100", VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, 1, 1),
                                                  Fake("llvmpipe (LLVM 15)", VK_PHYSICAL_DEVICE_TYPE_CPU, 2, 0)};
  EXPECT_EQ(vk::SelectDevice(d, "").caps.name, "NVIDIA H100");
  EXPECT_EQ(vk::SelectDevice(d, "1").caps.name, "llvmpipe (LLVM 15)");
  EXPECT_EQ(vk::SelectDevice(d, "LLVMPIPE").caps.name, "llvmpipe (LLVM 15)");
  try {
    vk::SelectDevice(d, "7");
    FAIL() << "no error";
  } catch (const vk::Error& e) {
    EXPECT_STREQ(e.what(), "no Vulkan device matches '7' (available: 0: NVIDIA H100, 1: llvmpipe (LLVM 15))");
  }
  EXPECT_THROW(vk::SelectDevice({}, ""), vk::Error);
}

class VkLayerTest : public GpuTest {};

TEST_F(VkLayerTest, CapabilitiesOfTheDevice) {
  const auto& c = gpu().device().caps();
  EXPECT_FALSE(c.name.empty());
  EXPECT_GE(c.subgroup_size, 1u);
  EXPECT_GE(c.max_storage_buffer_range, 1u << 27);  // the spec minimum is 128 MiB
  EXPECT_GE(c.max_push_constants, 128u);
  EXPECT_FALSE(c.heaps.empty());
  EXPECT_TRUE(c.subgroup_arithmetic);
}

TEST_F(VkLayerTest, BlockAllocatorAlignsAndGrows) {
  vk::BlockAllocator a(gpu().device(), vk::MemoryKind::kDeviceLocal, "blocks", 1 << 20);
  const auto s1 = a.Allocate(100), s2 = a.Allocate(100);
  EXPECT_EQ(s1.buffer, s2.buffer);
  EXPECT_EQ(s2.offset % a.alignment(), 0u);
  EXPECT_GE(s2.offset, 100u);
  const auto big = a.Allocate(3 << 20);  // larger than a block: its own block
  EXPECT_NE(big.buffer, s1.buffer);
  EXPECT_EQ(big.offset, 0u);
  const auto s3 = a.Allocate(1 << 19);  // still fits the first block
  EXPECT_EQ(s3.buffer, s1.buffer);
  a.Reset();
  EXPECT_EQ(a.allocated_bytes(), 0u);
  EXPECT_EQ(a.Allocate(100).offset, 0u);
}

TEST_F(VkLayerTest, ChunkedStagingRoundTrip) {
  // A 4 KiB staging buffer forces ~100 chunks for 400 KB, in both directions.
  vk::Transfer small(gpu().device(), 4096);
  std::vector<uint32_t> data(100003);
  std::iota(data.begin(), data.end(), 7u);
  const auto slice = alloc().Allocate(data.size() * 4);
  small.Upload(slice, data.data(), data.size() * 4);
  std::vector<uint32_t> back(data.size());
  small.Download(slice, back.data(), back.size() * 4);
  EXPECT_EQ(back, data);
}

TEST_F(VkLayerTest, PipelineCacheIsSavedToDiskAndReloaded) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("vkg-cache-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const char* old = std::getenv("XDG_CACHE_HOME");
  const std::string saved = old ? old : "";
  setenv("XDG_CACHE_HOME", dir.c_str(), 1);
  std::string path;
  {
    vk::PipelineCache cache(gpu().device());
    path = cache.disk_path();
    const vk::PipelineDesc desc{shaders::Spirv(shaders::ShaderId::Fill),
                                "fill",
                                {vk::BindingKind::kStorage},
                                8,
                                vk::SpecConstants().Set(0, 64)};
    const auto& p1 = cache.Get(desc);
    EXPECT_EQ(&p1, &cache.Get(desc));  // memory cache hit
    const auto& p2 = cache.Get({desc.spirv, "fill", desc.bindings, 8, vk::SpecConstants().Set(0, 32)});
    EXPECT_NE(&p1, &p2);  // other spec constants: another pipeline
    EXPECT_EQ(cache.size(), 2u);
  }
  ASSERT_EQ(path.rfind(dir.string() + "/vkgemma/pipelines-", 0), 0u) << path;
  EXPECT_TRUE(std::filesystem::exists(path));
  { vk::PipelineCache reload(gpu().device()); }  // loads the file
  { std::ofstream(path, std::ios::binary | std::ios::trunc) << "garbage"; }
  { vk::PipelineCache corrupt(gpu().device()); }  // a corrupt file never fails a run
  if (old)
    setenv("XDG_CACHE_HOME", saved.c_str(), 1);
  else
    unsetenv("XDG_CACHE_HOME");
  std::filesystem::remove_all(dir);
}

TEST_F(VkLayerTest, TimestampsMeasureADispatch) {
  if (!gpu().device().caps().timestamps) GTEST_SKIP() << "device has no timestamps";
  vk::TimestampPool pool(gpu().device(), 2);
  const Tensor t = NewTensor(1, 1 << 20);
  Run([&](OpContext& ctx) {
    ctx.rec.ResetTimestamps(pool);
    ctx.rec.WriteTimestamp(pool, 0);
    Fill(ctx, t, 2.f);
    ctx.rec.WriteTimestamp(pool, 1);
  });
  EXPECT_GT(pool.ElapsedNs(0, 1), 0.0);
}

TEST_F(VkLayerTest, ShapeErrorsNameTheOp) {
  // Spec constant 48 is used by no op, so this pipeline is created here with this name.
  const auto& p = gpu().pipelines().Get({shaders::Spirv(shaders::ShaderId::Fill),
                                         "fill-misuse",
                                         {vk::BindingKind::kStorage},
                                         8,
                                         vk::SpecConstants().Set(0, 48)});
  try {
    Run([&](OpContext& ctx) { ctx.rec.Dispatch(p, {}, nullptr, 8, 1); });
    FAIL() << "no error";
  } catch (const vk::Error& e) {
    EXPECT_STREQ(e.what(), "'fill-misuse' takes 1 bindings, got 0");
  }
}

}  // namespace
}  // namespace vkg::test
