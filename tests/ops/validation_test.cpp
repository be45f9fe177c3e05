// Proves the test harness really runs with validation: a deliberate misuse must be reported.
#include <vulkan/vulkan.h>

#include "tests/test_util.h"

namespace vkg::test {
namespace {

class ValidationTest : public GpuTest {
 public:
  static GpuContext& Gpu() { return gpu(); }
};

TEST(ValidationHarness, DeliberateMisuseIsReported) {
  GpuContext& g = ValidationTest::Gpu();
  if (!g.instance().validation()) GTEST_FAIL() << "tests must run with VKGEMMA_VALIDATION=1 (ctest sets it)";
  const int before = g.instance().validation_message_count();
  VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  info.size = 256;
  info.usage = 0;  // invalid: usage must not be 0
  VkBuffer buffer = VK_NULL_HANDLE;
  vkCreateBuffer(g.device().handle(), &info, nullptr, &buffer);
  if (buffer != VK_NULL_HANDLE) vkDestroyBuffer(g.device().handle(), buffer, nullptr);
  EXPECT_GT(g.instance().validation_message_count(), before);
}

}  // namespace
}  // namespace vkg::test
