// Engine: one loaded model on one device, the GPU path or the CPU reference (`--device cpu`)
// behind the same interface (layer: host/runtime). What the CLI, tests and benchmarks drive.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "host/device/upload_progress.h"
#include "host/formats/dtype.h"
#include "host/model/audio_features.h"
#include "host/model/checkpoint.h"
#include "host/model/config.h"
#include "host/model/image_patches.h"
#include "host/ops/kernel_family.h"
#include "host/runtime/selftest.h"

namespace vkg {

struct EngineOptions {
  std::string device;  // "cpu", a device index or name substring; "" = default GPU
  // --mmproj: llama.cpp's Gemma 4 vision projector GGUF next to a GGUF text model ("" = none).
  std::string mmproj;
  // Compute format of the linear layers (GPU path). Unset: the checkpoint's own
  // (Checkpoint::stored_format(): bf16 stays bf16, f16 f16, f32 f32); bf16 for synthetic weights,
  // which stand for the released (bf16) checkpoints.
  std::optional<DType> weights;
  uint32_t context = 0;                          // 0 = the largest that fits (capped at 8192)
  uint32_t batch = 0;                            // prompt tokens per forward chunk; 0 = Scheduler::DefaultBatch
  DType kv_dtype = DType::F16;                   // KV cache storage (GPU path)
  bool validation = false;                       // Vulkan validation layers (also VKGEMMA_VALIDATION=1)
  bool replay_decode = true;                     // decode steps replay one recorded command buffer (GPU path)
  KernelFamily kernels = KernelFamily::kDevice;  // matrix-product variants (tests force the GPU ones)
  KernelFeatures features;                       // integer-dot / matrix-unit paths (kernel_family.h)
  UploadProgress progress;                       // called while weights are converted and uploaded
};

struct MemoryReport {
  uint64_t weights = 0, kv_cache = 0, scratch = 0;
  uint32_t context = 0;
  uint32_t batch = 0;  // the prompt chunk in use (tokens per prefill forward pass)
};

class Engine {
 public:
  // Loads and checks the checkpoint directory, then uploads it (GPU) or converts it (CPU).
  static std::unique_ptr<Engine> Open(const std::string& model_dir, const EngineOptions& options);
  // A GPU engine with seeded synthetic weights at the exact shapes of `config` (benchmarks).
  static std::unique_ptr<Engine> OpenSynthetic(const ModelConfig& config, const EngineOptions& options,
                                               uint64_t seed = 1);
  virtual ~Engine() = default;

  virtual const ModelConfig& config() const = 0;
  // Evaluates tokens at positions n_past() ..; logits [n][vocab] (all_logits) or [1][vocab].
  virtual std::vector<float> Forward(std::span<const int32_t> tokens, bool all_logits) = 0;
  // Images for the next Forward call (docs/model.md §5): each run of image_token_id in that call's
  // tokens takes the next image's soft tokens, computed by the vision tower, and the call evaluates
  // each image in one pass, so it sees itself whole. That call checks the runs against the images
  // (CheckImagePrompt, image_patches.h) and throws vkg::Error (one line) when the model has no
  // vision tower or they disagree; it consumes the images either way.
  void AttachImages(std::vector<ImagePatches> images) { pending_images_ = std::move(images); }
  // AttachImages + Forward.
  std::vector<float> ForwardWithImages(std::span<const int32_t> tokens, bool all_logits,
                                       std::vector<ImagePatches> images) {
    AttachImages(std::move(images));
    return Forward(tokens, all_logits);
  }
  // Audio clips for the next Forward call (docs/model.md §5.4), as AttachImages: each run of
  // audio_token_id in that call's tokens takes the next clip's soft tokens, computed by the audio
  // tower (always causal in the text model). A prompt may hold images and audio together. That call
  // checks the runs against the clips (CheckAudioPrompt, audio_prompt.h) and throws vkg::Error (one
  // line) when the model has no audio tower or they disagree; it consumes the clips either way.
  void AttachAudio(std::vector<AudioFeatures> clips) { pending_audio_ = std::move(clips); }
  // The audio tower alone (loaded on first use): one clip's soft tokens [soft_tokens][hidden], what
  // AttachAudio's Forward places (a batch engine passes them on through AttachSoftTokens with
  // ImageSpan::causal set). Throws vkg::Error (one line) when the model has no audio tower or the
  // clip is malformed (CheckAudioFeatures).
  std::vector<float> EncodeAudio(const AudioFeatures& clip);
  // The vision tower alone (loaded on first use): one image's soft tokens [soft_tokens][hidden],
  // what AttachImages' Forward places. Throws vkg::Error (one line) when the model has no tower or
  // the patches do not fit it. Counted by images_encoded().
  std::vector<float> EncodeImage(const ImagePatches& image);
  // Soft tokens already encoded (EncodeImage) for the next Forward call instead of images: `spans`
  // are that call's image rows (relative to its tokens; a causal image's run may be cut at the
  // call's edges, a bidirectional one must lie whole inside it) and `soft` their rows in span order
  // [sum of lengths][hidden]. What a batch engine uses when it feeds a prompt in chunks.
  void AttachSoftTokens(std::vector<ImageSpan> spans, std::vector<float> soft) {
    pending_spans_ = std::move(spans);
    pending_soft_ = std::move(soft);
  }
  // Images the vision tower encoded so far (tests: a repeated image is not encoded again).
  uint64_t images_encoded() const { return images_encoded_; }
  // Audio clips the audio tower encoded so far (EncodeAudio calls that ran it).
  uint64_t audio_encoded() const { return audio_encoded_; }
  virtual uint32_t n_past() const = 0;
  virtual void Reset() = 0;
  // Forgets positions n .. n_past() - 1; false (nothing changed) when the cache cannot (a sliding
  // window ring was already overwritten): then Reset and evaluate again.
  virtual bool Truncate(uint32_t n) = 0;
  virtual MemoryReport memory() const = 0;
  // The format the linear layers compute from: the GPU's compute format; f32 on the CPU reference,
  // which converts every weight to float32.
  virtual DType weights_format() const = 0;
  // Every type the linear layers compute from, "q4_k+q6_k+f32" where matrices keep their own
  // stored types (a GGUF file); weights_format() alone otherwise.
  virtual std::string weights_formats() const { return std::string(DTypeName(weights_format())); }
  // The checkpoint's own format (Checkpoint::stored_format()); nullopt for synthetic weights.
  virtual std::optional<DType> stored_format() const = 0;
  virtual std::string device_name() const = 0;
  // Per-op device time of the next Forward calls (timestamps after every dispatch; slows the
  // device slightly, so benchmarks profile separate steps). Empty on engines without a device.
  struct OpTime {
    std::string name;  // shader variant, "copy" or "fill"
    double ns = 0;
    // Launch geometry (vk::Recorder::OpTime): workgroups, invocations, bytes read (estimated:
    // the op did not state them, and the bound ranges of its read bindings stand in).
    uint64_t workgroups = 0, invocations = 0, bytes_read = 0;
    bool bytes_estimated = false;
  };
  virtual void SetProfiling(bool /*on*/) {}
  virtual std::vector<OpTime> TakeProfile() { return {}; }
  // `vkgemma selftest` on this engine's device (host/runtime/selftest.h), sharing its pipelines:
  // bench checks the kernels it times this way. Throws vkg::Error on the CPU path.
  virtual SelftestReport Selftest(const SelftestOptions& options);
  // Queue submissions so far (0 for the CPU path): benchmarks report them per decode token.
  virtual uint64_t submissions() const { return 0; }
  // Dispatches and pipeline barriers of one replayed decode step (0 for the CPU path, and before
  // the first decode step).
  struct StepCounts {
    uint32_t dispatches = 0, barriers = 0;
    uint32_t barriers_requested = 0;  // by the ops, before back-to-back ones merged (vk::Recorder)
  };
  virtual StepCounts decode_step_counts() const { return {}; }
  // Compute pipelines created so far (0 for the CPU path): benchmarks check that none is created
  // inside a timed run.
  virtual size_t pipelines_created() const { return 0; }
  // Vulkan validation messages seen so far (0 for the CPU path); tests require none.
  virtual int validation_messages() const = 0;

 protected:
  // The attached images, emptied: what a Forward call takes.
  std::vector<ImagePatches> TakeImages() { return std::exchange(pending_images_, {}); }
  // The attached audio clips, emptied.
  std::vector<AudioFeatures> TakeAudio() { return std::exchange(pending_audio_, {}); }
  // The attached soft tokens (AttachSoftTokens), emptied.
  std::pair<std::vector<ImageSpan>, std::vector<float>> TakeSoftTokens() {
    return {std::exchange(pending_spans_, {}), std::exchange(pending_soft_, {})};
  }
  // The engine's tower: one image's soft tokens (EncodeImage counts the call).
  virtual std::vector<float> RunVisionTower(const ImagePatches& image) = 0;
  // The engine's audio tower: one clip's soft tokens.
  virtual std::vector<float> RunAudioTower(const AudioFeatures& clip) = 0;

 private:
  std::vector<ImagePatches> pending_images_;
  std::vector<AudioFeatures> pending_audio_;
  std::vector<ImageSpan> pending_spans_;
  std::vector<float> pending_soft_;
  uint64_t images_encoded_ = 0;
  uint64_t audio_encoded_ = 0;
};

}  // namespace vkg
