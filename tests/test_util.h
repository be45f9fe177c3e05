// Shared test helpers: one GPU context per process, guarded device tensors, error measures.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "host/device/gpu_context.h"
#include "host/device/tensor.h"
#include "host/ops/op_context.h"
#include "vk/buffer.h"
#include "vk/command.h"

namespace vkg::test {

// Seeded uniform values in [lo, hi).
std::vector<float> RandomVector(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f);

// Every weight format of the format table (host/formats/format_traits.h), in DType order (without
// f32 where with_f32 is false: the matrix-unit kernels have no f32 variant). The op tests that cover
// every format iterate this, so a new format's row puts it under them.
std::vector<DType> AllWeightFormats(bool with_f32 = true);

struct ErrorStats {
  double nmse = 0;     // sum((got - ref)^2) / sum(ref^2)
  double max_abs = 0;  // max |got - ref|
  size_t non_finite = 0;
};
ErrorStats Compare(std::span<const float> ref, std::span<const float> got);

// Fails the test unless sizes match, every value is finite and NMSE <= threshold.
void ExpectClose(std::span<const float> ref, std::span<const float> got, double nmse_threshold, const char* what);

// Base fixture for GPU op tests. Validation layers are on when VKGEMMA_VALIDATION=1 (ctest sets
// it), and any validation message during a test fails it.
class GpuTest : public ::testing::Test {
 protected:
  static GpuContext& gpu();
  void SetUp() override;
  void TearDown() override;

  // A [rows, cols] tensor with guard regions before and after it, pre-filled with a NaN pattern.
  Tensor NewTensor(uint32_t rows, uint32_t cols, DType dtype = DType::F32);
  void Upload(const Tensor& t, std::span<const float> values);  // f32 or f16 (converted)
  void UploadRaw(const vk::BufferSlice& s, const void* data, size_t bytes);
  std::vector<float> Download(const Tensor& t);  // also checks that the guards are untouched
  // Records `body` into one command buffer, submits it and waits.
  void Run(const std::function<void(OpContext&)>& body);
  // The same with one kernel family forced (both families are tested on lavapipe).
  void Run(const std::function<void(OpContext&)>& body, KernelFamily family);

  vk::BlockAllocator& alloc() { return *alloc_; }

 private:
  struct Guarded {
    vk::BufferSlice whole;
    Tensor tensor;
  };
  std::unique_ptr<vk::BlockAllocator> alloc_;
  std::unique_ptr<vk::Recorder> rec_;
  std::vector<Guarded> guarded_;
  int validation_before_ = 0;
};

}  // namespace vkg::test
