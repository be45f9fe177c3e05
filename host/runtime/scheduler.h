// Scheduler: sequences GPU work for one conversation (layer: host/runtime). Owns the KV cache, the
// activation scratch and the command recorder; chunks prompts by `batch`, advances positions,
// submits, and reads back only logits.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "host/device/gpu_model.h"
#include "host/device/kv_cache.h"
#include "host/model/image_patches.h"
#include "host/ops/op_context.h"
#include "host/runtime/activations.h"
#include "host/runtime/forward.h"
#include "vk/buffer.h"
#include "vk/caps.h"
#include "vk/command.h"

namespace vkg {

class GpuContext;

struct SchedulerOptions {
  uint32_t context = 0;  // KV positions; 0 = DefaultContext
  uint32_t batch = 64;   // most prompt tokens per forward chunk
  DType kv_dtype = DType::F16;
  uint32_t logit_rows = 8;  // rows of logits computed per head pass (all-position requests)
  // Decode steps (one token) replay one command buffer recorded at the first step, reading their
  // position from a device buffer, instead of recording ~10 ops per layer again for every token.
  bool replay_decode = true;
  KernelFamily kernels = KernelFamily::kDevice;  // tests force the GPU kernels on lavapipe
  KernelFeatures features;                       // integer-dot / matrix-unit paths (op_context.h)
};

class Scheduler {
 public:
  Scheduler(GpuContext& gpu, const GpuModel& model, const SchedulerOptions& options);

  // Evaluates `tokens` at positions n_past() .. n_past() + n - 1. Returns logits [n][vocab] when
  // all_logits, else [1][vocab] for the last token. Throws vkg::Error past the context.
  std::vector<float> Forward(std::span<const int32_t> tokens, bool all_logits);
  // The same for a prompt holding images (docs/model.md §5.3): soft [sum of spans' lengths][H]
  // replace the embeddings of the rows of `spans` (indices into tokens, in order); with
  // bidirectional, each span is evaluated inside one chunk and sees itself whole on sliding layers
  // (vkg::Error when a span is longer than the chunk: raise --batch).
  std::vector<float> ForwardWithSoftTokens(std::span<const int32_t> tokens, bool all_logits,
                                           const std::vector<ImageSpan>& spans, const std::vector<float>& soft,
                                           bool bidirectional);
  void Reset() { n_past_ = 0; }
  // Forgets positions n .. n_past() - 1 (to continue a conversation from a shared prefix).
  // False, changing nothing, when a sliding ring no longer holds the window position n needs.
  bool Truncate(uint32_t n);
  uint32_t n_past() const { return n_past_; }
  // Per-op device times of the following submissions (Recorder::AttachProfiler); nullptr stops.
  void SetProfiler(vk::TimestampPool* pool);
  std::vector<vk::Recorder::OpTime> TakeProfile();
  uint32_t context() const { return kv_->context(); }
  uint64_t kv_bytes() const { return kv_->bytes(); }
  uint64_t scratch_bytes() const { return acts_->bytes; }
  uint32_t batch() const { return options_.batch; }

  // min(max_position_embeddings, cap) when its KV cache and scratch fit beside the weights in 90%
  // of the device's largest device-local heap, else the largest multiple of 256 that does.
  // Throws vkg::Error naming the sizes when not even 256 positions fit.
  static uint32_t DefaultContext(const ModelConfig& config, const vk::DeviceCaps& caps, uint64_t weight_bytes,
                                 uint64_t scratch_bytes, uint32_t batch, DType kv_dtype, uint32_t cap = 8192);

  // The prompt chunk (tokens per prefill forward pass) when none is asked for: kGpuBatch on GPUs,
  // where the prefill products and attention need hundreds of rows to fill the device (a 64-row
  // chunk of E2B's 1536-row products is 96 tiled workgroups on a 132-SM part; 512 rows give 384),
  // kCpuBatch on CPU devices (lavapipe measures no gain past 64: docs/lavapipe.md).
  // Halved, not below kCpuBatch, while the weights, the scratch at that chunk and a 256-position
  // KV cache exceed 90% of the device-local heap (the rule of DefaultContext).
  static constexpr uint32_t kGpuBatch = 512, kCpuBatch = 64;
  static uint32_t DefaultBatch(const ModelConfig& config, const vk::DeviceCaps& caps, uint64_t weight_bytes,
                               DType kv_dtype);

 private:
  // ids (image rows as <pad>, also for the per-layer-embedding rows) of the chunk.
  void UploadChunk(std::span<const int32_t> tokens, const ChunkImages* images = nullptr);
  std::vector<float> Run(std::span<const int32_t> tokens, bool all_logits, const std::vector<ImageSpan>* spans,
                         const std::vector<float>* soft, bool bidirectional);
  // One decode token through the replayed command buffer (recorded on first use).
  void DecodeStep(int32_t token, float* logits);

  GpuContext& gpu_;
  const GpuModel& model_;
  SchedulerOptions options_;
  std::unique_ptr<vk::BlockAllocator> alloc_;
  std::unique_ptr<KvCache> kv_;
  std::unique_ptr<Activations> acts_;
  std::unique_ptr<vk::Recorder> rec_;
  std::unique_ptr<vk::Recorder> decode_rec_;  // the replayed decode step
  bool decode_recorded_ = false;
  std::vector<float> ple_rows_;  // [batch][L * P] host staging of per-layer-embedding rows
  uint32_t n_past_ = 0;
};

}  // namespace vkg
