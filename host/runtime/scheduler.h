// Scheduler: sequences GPU work for one conversation (layer: host/runtime). Owns the KV cache, the
// activation scratch and the command recorder; chunks prompts by `batch`, advances positions,
// submits, and reads back only logits.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "host/device/gpu_model.h"
#include "host/device/kv_cache.h"
#include "host/model/image_patches.h"
#include "host/ops/op_context.h"
#include "host/runtime/activations.h"
#include "host/runtime/forward.h"
#include "host/runtime/step_staging.h"
#include "vk/buffer.h"
#include "vk/caps.h"
#include "vk/command.h"

namespace vkg {

class GpuContext;

struct SchedulerOptions {
  uint32_t context = 0;        // KV positions; 0 = DefaultContext
  uint64_t device_memory = 0;  // most device bytes the default context may fill up to (0: the device's)
  uint32_t batch = 64;         // most prompt tokens per forward chunk
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
  // How context() was chosen: "--ctx", or DefaultContext's reason.
  const std::string& context_reason() const { return context_reason_; }
  uint64_t kv_bytes() const { return kv_->bytes(); }
  uint64_t scratch_bytes() const { return acts_->bytes; }
  uint32_t batch() const { return options_.batch; }
  // Queue submissions so far (each waited on): a replayed decode step is one, its inputs and
  // logits moving through mapped memory inside it (StepStaging); a prefill chunk uploads its ids
  // (and per-layer rows), submits, and downloads its logits.
  uint64_t submits() const { return submits_; }
  // Dispatches and pipeline barriers of the recorded decode step (0 before the first one):
  // every dispatch after a barrier waits for the ones before it (docs/gpu.md).
  uint32_t decode_dispatches() const { return decode_dispatches_; }
  uint32_t decode_barriers() const { return decode_barriers_; }
  uint32_t decode_barrier_requests() const { return decode_barrier_requests_; }  // before merging

  // Device memory an engine may hold: 90% of the largest device-local heap (room for the driver
  // and a display), no more than that heap's VK_EXT_memory_budget budget read now (what other
  // processes leave; 0 = not known), and no more than `limit` (EngineOptions::device_memory; 0 = none).
  struct DeviceRoom {
    uint64_t usable = 0;
    std::string bound;  // what set it: "90% of the device-local heap", "the heap's budget", "the device_memory limit"
  };
  static DeviceRoom UsableDeviceMemory(uint64_t heap, uint64_t budget, uint64_t limit);

  // The default context (KV positions when none is asked for): max_position_embeddings when the
  // weights, the scratch and `slots` KV caches of that many positions in `kv_dtype` fit in
  // room.usable, else the largest multiple of 256 that does. reason: one phrase for the load line.
  // Throws vkg::Error naming the sizes when not even 256 positions fit.
  struct ContextChoice {
    uint32_t context = 0;
    std::string reason;
  };
  static ContextChoice DefaultContext(const ModelConfig& config, const DeviceRoom& room, const std::string& device,
                                      uint64_t weight_bytes, uint64_t scratch_bytes, uint32_t batch, DType kv_dtype,
                                      uint32_t slots = 1);

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
  std::string context_reason_;
  std::unique_ptr<vk::BlockAllocator> alloc_;
  std::unique_ptr<KvCache> kv_;
  std::unique_ptr<Activations> acts_;
  std::unique_ptr<vk::Recorder> rec_;
  std::unique_ptr<vk::Recorder> decode_rec_;  // the replayed decode step
  bool decode_recorded_ = false;
  std::unique_ptr<StepStaging> decode_io_;  // the replayed step's inputs and logits, mapped
  int32_t* decode_id_ = nullptr;            // where the host writes the step's token id
  uint32_t* decode_pos_ = nullptr;          // ... its position
  float* decode_ple_ = nullptr;             // ... its per-layer embedding rows [L * P]
  const float* decode_logits_ = nullptr;    // the logits the step copied out [V]
  uint64_t submits_ = 0;
  uint32_t decode_dispatches_ = 0, decode_barriers_ = 0, decode_barrier_requests_ = 0;
  std::vector<float> ple_rows_;  // [batch][L * P] host staging of per-layer-embedding rows
  uint32_t n_past_ = 0;
};

}  // namespace vkg
