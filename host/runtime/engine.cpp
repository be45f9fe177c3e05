// Engine implementations: GPU (GpuModel + Scheduler) and CPU (ref::Model) (layer: host/runtime).
#include "host/runtime/engine.h"

#include <algorithm>
#include <optional>

#include "host/device/gpu_context.h"
#include "host/device/kv_cache.h"
#include "host/error.h"
#include "host/model/audio_prompt.h"
#include "host/model/tensor_names.h"
#include "host/reference/audio_tower.h"
#include "host/reference/ref_model.h"
#include "host/reference/vision_tower.h"
#include "host/runtime/activations.h"
#include "host/runtime/audio_tower_gpu.h"
#include "host/runtime/scheduler.h"
#include "host/runtime/vision_tower_gpu.h"
#include "vk/check.h"
#include "vk/query.h"

namespace vkg {
namespace {

// The soft-token rows of one prompt: every image's and audio clip's run (audio runs causal), in
// prompt order, and their soft tokens [rows][H] in that order (what the text model takes).
struct SoftPrompt {
  std::vector<ImageSpan> spans;
  std::vector<float> soft;
};

// encode_image(i) / encode_audio(i): soft tokens [run length][H] of image / clip i.
template <typename EncodeImage, typename EncodeAudio>
SoftPrompt MergeSoftTokens(const ModelConfig& c, std::span<const int32_t> tokens, size_t n_images, size_t n_clips,
                           EncodeImage encode_image, EncodeAudio encode_audio) {
  std::vector<std::pair<ImageSpan, std::vector<float>>> runs;
  if (n_images) {
    const std::vector<ImageSpan> spans =
        FindImageSpans(std::vector<int32_t>(tokens.begin(), tokens.end()), c.mm.image_token_id);
    for (size_t i = 0; i < spans.size(); ++i) runs.emplace_back(spans[i], encode_image(i));
  }
  if (n_clips) {
    std::vector<ImageSpan> spans = FindAudioSpans(tokens, c.mm.audio_token_id);
    for (size_t i = 0; i < spans.size(); ++i) {
      spans[i].causal = true;
      runs.emplace_back(spans[i], encode_audio(i));
    }
  }
  std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.first.start < b.first.start; });
  SoftPrompt out;
  for (auto& [span, soft] : runs) {
    out.spans.push_back(span);
    out.soft.insert(out.soft.end(), soft.begin(), soft.end());
  }
  return out;
}

class GpuEngine : public Engine {
 public:
  // From a checkpoint (kept alive here: the weights are read from its mapping) or, without one,
  // from synthetic weights at config's shapes.
  // `format`: the compute format, options.weights or the default Engine::Open chose.
  // own_types: block-quantized matrices keep their stored types (a GGUF file without --weights).
  GpuEngine(std::optional<Checkpoint> ckpt, const ModelConfig& config, uint64_t seed, DType format,
            const EngineOptions& o, bool own_types = false)
      : ckpt_(std::move(ckpt)), config_(config) {
    if (ckpt_) stored_ = ckpt_->stored_format();
    gpu_ = std::make_unique<GpuContext>(GpuOptions{o.device, o.validation});
    auto source = ckpt_ ? CheckpointWeights(*ckpt_) : SyntheticWeights(config_, seed);
    GpuModel::StoredTypeOf own;
    if (own_types) own = [&src = *source](const std::string& name) { return src.StoredType(name); };
    const uint64_t estimate = GpuModel::EstimateBytes(config_, format, own);
    const uint32_t batch =
        o.batch ? o.batch : Scheduler::DefaultBatch(config_, gpu_->device().caps(), estimate, o.kv_dtype);
    CheckFits(estimate, format, batch, o);
    model_ = std::make_unique<GpuModel>(std::move(source), *gpu_, format, o.progress, own_types);
    SchedulerOptions so;
    so.context = o.context;
    so.batch = batch;
    so.kv_dtype = o.kv_dtype;
    so.replay_decode = o.replay_decode;
    so.kernels = o.kernels;
    so.features = o.features;
    scheduler_ = std::make_unique<Scheduler>(*gpu_, *model_, so);
    kernels_ = o.kernels;
    features_ = o.features;
  }
  const ModelConfig& config() const override { return config_; }
  std::vector<float> Forward(std::span<const int32_t> tokens, bool all_logits) override {
    const std::vector<ImagePatches> images = TakeImages();
    const std::vector<AudioFeatures> clips = TakeAudio();
    auto [spans, soft] = TakeSoftTokens();
    if (!images.empty() || !clips.empty()) {
      CheckImagePrompt(config_, tokens, images);
      CheckAudioPrompt(config_, tokens, clips);
      SoftPrompt merged = MergeSoftTokens(
          config_, tokens, images.size(), clips.size(), [&](size_t i) { return EncodeImage(images[i]); },
          [&](size_t i) { return EncodeAudio(clips[i]); });
      spans = std::move(merged.spans);
      soft = std::move(merged.soft);
    }
    if (spans.empty()) return scheduler_->Forward(tokens, all_logits);
    return scheduler_->ForwardWithSoftTokens(tokens, all_logits, spans, soft, config_.mm.bidirectional_vision);
  }
  std::vector<float> RunVisionTower(const ImagePatches& image) override {
    if (!tower_) {  // uploaded on the first image
      VKG_CHECK(ckpt_.has_value(), "image input needs checkpoint weights");
      CheckVisionTensors(config_, ckpt_->weights());
      tower_ = std::make_unique<GpuVisionTower>(TowerSource(), *gpu_, model_->format());
    }
    return tower_->Encode(image, kernels_, features_);
  }
  std::vector<float> RunAudioTower(const AudioFeatures& clip) override {
    if (!audio_tower_) {  // uploaded on the first clip
      VKG_CHECK(ckpt_.has_value(), "audio input needs checkpoint weights");
      CheckAudioTensors(config_, ckpt_->weights());
      audio_tower_ = std::make_unique<GpuAudioTower>(TowerSource(), *gpu_, model_->format());
    }
    return audio_tower_->Encode(clip, kernels_, features_);
  }
  uint32_t n_past() const override { return scheduler_->n_past(); }
  void Reset() override { scheduler_->Reset(); }
  bool Truncate(uint32_t n) override { return scheduler_->Truncate(n); }
  MemoryReport memory() const override {
    return {model_->device_bytes(), scheduler_->kv_bytes(), scheduler_->scratch_bytes(), scheduler_->context(),
            scheduler_->batch()};
  }
  DType weights_format() const override { return model_->format(); }
  std::string weights_formats() const override { return model_->formats(); }
  std::optional<DType> stored_format() const override { return stored_; }
  std::string device_name() const override { return gpu_->device().caps().name; }
  int validation_messages() const override { return gpu_->instance().validation_message_count(); }
  size_t pipelines_created() const override { return gpu_->pipelines().size(); }
  uint64_t submissions() const override { return scheduler_->submits(); }
  SelftestReport Selftest(const SelftestOptions& options) override { return RunSelftestOn(*gpu_, options); }
  StepCounts decode_step_counts() const override {
    return {scheduler_->decode_dispatches(), scheduler_->decode_barriers(), scheduler_->decode_barrier_requests()};
  }
  void SetProfiling(bool on) override {
    // 4096 timestamps: a decode step of the largest model records about 1500 ops.
    if (on && !timestamps_) timestamps_ = std::make_unique<vk::TimestampPool>(gpu_->device(), 4096);
    scheduler_->SetProfiler(on ? timestamps_.get() : nullptr);
  }
  std::vector<OpTime> TakeProfile() override {
    std::vector<OpTime> out;
    for (auto& t : scheduler_->TakeProfile()) {
      out.push_back({std::move(t.name), t.ns, t.workgroups, t.invocations, t.bytes_read, t.bytes_estimated});
    }
    return out;
  }

 private:
  // Refuses, before any upload, a model whose weights and smallest working set exceed the device.
  void CheckFits(uint64_t weights, DType format, uint32_t batch, const EngineOptions& o) const {
    const ModelConfig& c = config_;
    const auto& caps = gpu_->device().caps();
    const uint32_t ctx = o.context ? o.context : std::min<uint32_t>(256, uint32_t(c.max_position_embeddings));
    const uint64_t need = weights + Activations::Bytes(c, batch, 8, ctx) + KvCache::Bytes(c, ctx, batch, o.kv_dtype);
    const uint64_t have = caps.DeviceLocalBytes() / 10 * 9;
    if (need > have) {
      throw Error(vk::Concat("the model does not fit ", caps.name, ": it needs ", (need + (1 << 20) - 1) >> 20,
                             " MiB with --weights ", DTypeName(format), " and ", have >> 20,
                             " MiB of device memory is usable (try a smaller --weights format or --ctx)"));
    }
  }

  std::optional<Checkpoint> ckpt_;
  std::optional<DType> stored_;
  ModelConfig config_;
  std::unique_ptr<GpuContext> gpu_;  // before the model: destroyed after it
  std::unique_ptr<GpuModel> model_;
  std::unique_ptr<Scheduler> scheduler_;
  // The checkpoint as a weight source, read by the towers (made on first use).
  const WeightSource& TowerSource() {
    if (!tower_source_) tower_source_ = CheckpointWeights(*ckpt_);
    return *tower_source_;
  }
  std::unique_ptr<WeightSource> tower_source_;  // the checkpoint, read by the towers
  std::unique_ptr<GpuVisionTower> tower_;       // on the first image
  std::unique_ptr<GpuAudioTower> audio_tower_;  // on the first clip
  KernelFamily kernels_ = KernelFamily::kDevice;
  KernelFeatures features_;
  std::unique_ptr<vk::TimestampPool> timestamps_;  // created by SetProfiling(true)
};

class CpuEngine : public Engine {
 public:
  CpuEngine(Checkpoint ckpt, const EngineOptions& o)
      : ckpt_(std::move(ckpt)),
        model_(ckpt_),
        cache_(ckpt_.config(), IsQuantized(o.kv_dtype) ? o.kv_dtype : DType::F32),  // f16: exact, as before
        context_(o.context ? o.context : uint32_t(std::min(ckpt_.config().max_position_embeddings, 8192))) {}
  const ModelConfig& config() const override { return ckpt_.config(); }
  std::vector<float> Forward(std::span<const int32_t> tokens, bool all_logits) override {
    const std::vector<ImagePatches> images = TakeImages();
    const std::vector<AudioFeatures> clips = TakeAudio();
    auto [spans, soft] = TakeSoftTokens();
    if (!images.empty() || !clips.empty()) {
      CheckImagePrompt(ckpt_.config(), tokens, images);
      CheckAudioPrompt(ckpt_.config(), tokens, clips);
      soft = MergeSoftTokens(
                 ckpt_.config(), tokens, images.size(), clips.size(), [&](size_t i) { return EncodeImage(images[i]); },
                 [&](size_t i) { return EncodeAudio(clips[i]); })
                 .soft;
    } else if (!spans.empty()) {
      // The reference places soft tokens at every image and audio token of the call: the spans must
      // be all of them.
      const ModelConfig& c = ckpt_.config();
      size_t rows = 0, soft_tokens = 0;
      for (const ImageSpan& sp : spans) rows += size_t(sp.length);
      for (int32_t id : tokens) {
        soft_tokens += id == c.mm.image_token_id || (c.mm.has_audio && id == c.mm.audio_token_id) ? 1 : 0;
      }
      VKG_CHECK(rows == soft_tokens, "AttachSoftTokens: ", rows, " soft-token rows for ", soft_tokens,
                " image and audio tokens");
    }
    return Run(tokens, all_logits, soft);
  }
  std::vector<float> RunVisionTower(const ImagePatches& image) override {
    if (!tower_) tower_.emplace(ckpt_.config(), ref::VisionWeights::Load(ckpt_));  // on first use
    return tower_->Encode(image);
  }
  std::vector<float> RunAudioTower(const AudioFeatures& clip) override {
    if (!audio_tower_) audio_tower_.emplace(ckpt_.config(), ref::AudioWeights::Load(ckpt_));  // on first use
    return audio_tower_->Encode(clip);
  }
  uint32_t n_past() const override { return uint32_t(cache_.n_past()); }
  void Reset() override { cache_.Reset(); }
  bool Truncate(uint32_t n) override { return cache_.Truncate(int(n)); }
  MemoryReport memory() const override { return {0, 0, 0, context_, 0}; }
  DType weights_format() const override { return DType::F32; }
  std::optional<DType> stored_format() const override { return ckpt_.stored_format(); }
  std::string device_name() const override { return "cpu (reference)"; }
  int validation_messages() const override { return 0; }

 private:
  std::vector<float> Run(std::span<const int32_t> tokens, bool all_logits, std::span<const float> soft) {
    const ModelConfig& c = ckpt_.config();
    if (uint64_t(cache_.n_past()) + tokens.size() > context_) {
      throw Error(vk::Concat("the prompt needs ", cache_.n_past() + tokens.size(), " positions but the context holds ",
                             context_, " (raise --ctx)"));
    }
    for (int32_t id : tokens) {
      if (id < 0 || id >= c.vocab_size) {
        throw Error(vk::Concat("token id ", id, " is outside the vocabulary of ", c.vocab_size));
      }
    }
    std::vector<float> logits = model_.ForwardWithImages(tokens, cache_.n_past(), cache_, soft);
    if (all_logits || tokens.empty()) return logits;
    const size_t V = size_t(c.vocab_size);
    return std::vector<float>(logits.end() - std::ptrdiff_t(V), logits.end());
  }

  Checkpoint ckpt_;
  ref::Model model_;
  std::optional<ref::VisionTower> tower_;       // loaded on the first image
  std::optional<ref::AudioTower> audio_tower_;  // loaded on the first clip
  ref::KvCache cache_;
  uint32_t context_;
};

}  // namespace

std::vector<float> Engine::EncodeImage(const ImagePatches& image) {
  const ModelConfig& c = config();
  if (!c.mm.has_vision) {
    throw Error("this model has no vision tower (its config.json has no vision_config): it cannot take images");
  }
  image.Check(c.mm.vision, "image");
  std::vector<float> soft = RunVisionTower(image);
  ++images_encoded_;
  return soft;
}

std::vector<float> Engine::EncodeAudio(const AudioFeatures& clip) {
  const ModelConfig& c = config();
  if (!c.mm.has_audio) {
    throw Error("this model has no audio tower (its config.json has no audio_config): it cannot take audio");
  }
  CheckAudioFeatures(clip, "audio clip");
  std::vector<float> soft = RunAudioTower(clip);
  ++audio_encoded_;
  return soft;
}

SelftestReport Engine::Selftest(const SelftestOptions&) {
  throw Error("the selftest checks a Vulkan device's kernels; the CPU reference has none");
}

std::unique_ptr<Engine> Engine::Open(const std::string& model_dir, const EngineOptions& options) {
  Checkpoint ckpt = Checkpoint::Load(model_dir, options.mmproj);
  if (options.device == "cpu") return std::make_unique<CpuEngine>(std::move(ckpt), options);
  const ModelConfig config = ckpt.config();
  const DType format = options.weights.value_or(ckpt.stored_format());
  // A GGUF file without --weights: each block-quantized matrix computes in its own stored type
  // (Q4_K_M's Q4_K and Q6_K, as stored); the rest in `format`.
  const bool own_types = !options.weights && ckpt.is_gguf();
  return std::make_unique<GpuEngine>(std::move(ckpt), config, 0, format, options, own_types);
}

std::unique_ptr<Engine> Engine::OpenSynthetic(const ModelConfig& config, const EngineOptions& options, uint64_t seed) {
  if (options.device == "cpu") throw Error("synthetic weights run on a GPU device only, not --device cpu");
  return std::make_unique<GpuEngine>(std::nullopt, config, seed, options.weights.value_or(DType::BF16), options);
}

}  // namespace vkg
