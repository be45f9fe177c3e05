// GPU continuous-batching engine (layer: host/batch).
#include "host/batch/gpu_batch_engine.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <optional>

#include "host/batch/slot_soft_tokens.h"
#include "host/batch/step_plan.h"
#include "host/device/gpu_context.h"
#include "host/device/kv_cache.h"
#include "host/device/weight_source.h"
#include "host/error.h"
#include "host/model/audio_prompt.h"
#include "host/model/checkpoint.h"
#include "host/model/tensor_names.h"
#include "host/ops/attention.h"
#include "host/ops/matmul.h"
#include "host/reference/ref_ops.h"
#include "host/runtime/activations.h"
#include "host/runtime/audio_tower_gpu.h"
#include "host/runtime/forward.h"
#include "host/runtime/scheduler.h"
#include "host/runtime/step_staging.h"
#include "host/runtime/vision_tower_gpu.h"
#include "vk/check.h"

namespace vkg {
namespace {

// Most prompt-chunk rows one pass carries besides the decode rows: two full chunks, so that two
// slots prefilling at once still share their weight reads.
uint32_t PrefillRows(uint32_t batch) { return 2 * batch; }

class GpuBatchEngine : public BatchEngine {
 public:
  // own_types: block-quantized matrices keep their stored types (a GGUF file without --weights), as
  // Engine::Open's engine does, so that both compute the same numbers.
  GpuBatchEngine(std::optional<Checkpoint> ckpt, const ModelConfig& config, uint64_t seed, DType format,
                 const EngineOptions& o, uint32_t slots, bool own_types = false)
      : ckpt_(std::move(ckpt)), config_(config), options_(o) {
    if (slots == 0) throw Error("a batch engine needs at least one slot");
    gpu_ = std::make_unique<GpuContext>(GpuOptions{o.device, o.validation});
    auto source = ckpt_ ? CheckpointWeights(*ckpt_) : SyntheticWeights(config_, seed);
    GpuModel::StoredTypeOf own;
    if (own_types) own = [&src = *source](const std::string& name) { return src.StoredType(name); };
    // The prompt chunk Engine would use on this device (bit-identical chunking needs the same).
    if (options_.batch == 0) {
      options_.batch = Scheduler::DefaultBatch(config_, gpu_->device().caps(),
                                               GpuModel::EstimateBytes(config_, format, own), o.kv_dtype);
    }
    model_ = std::make_unique<GpuModel>(std::move(source), *gpu_, format, o.progress, own_types);
    CheckRowAlignment();
    const ModelConfig& c = config_;
    alloc_ = std::make_unique<vk::BlockAllocator>(gpu_->device(), vk::MemoryKind::kDeviceLocal, "batch activations");
    const uint32_t rows = slots + PrefillRows(options_.batch);
    const uint32_t max_ctx = o.context ? o.context : uint32_t(c.max_position_embeddings);
    // The head computes one row per input: up to `slots` logit rows.
    acts_ = std::make_unique<Activations>(c, *alloc_, rows, slots, max_ctx);
    // Each slot's own split-decode partials (its prompt chunks use acts_->attn_scratch).
    const uint64_t scratch = AttentionScratchFloatsFor(c, max_ctx, 1);
    context_ = o.context;
    context_reason_ = "--ctx";
    if (!context_) {
      // Every slot's cache of the same context, beside the weights and all the scratch.
      const vk::Device& dev = gpu_->device();
      const Scheduler::ContextChoice choice = Scheduler::DefaultContext(
          c, Scheduler::UsableDeviceMemory(dev.caps().DeviceLocalBytes(), dev.DeviceLocalBudget(), o.device_memory),
          dev.caps().name, model_->device_bytes(), acts_->bytes + uint64_t(slots) * scratch * 4, options_.batch,
          o.kv_dtype, slots);
      context_ = choice.context;
      context_reason_ = choice.reason;
    }
    if (context_ > uint32_t(c.max_position_embeddings)) {
      throw Error(vk::Concat("--ctx ", context_, " exceeds the model's max_position_embeddings of ",
                             c.max_position_embeddings));
    }
    for (uint32_t s = 0; s < slots; ++s) {
      Slot slot;
      slot.kv = std::make_unique<KvCache>(c, *alloc_, context_, options_.batch, o.kv_dtype);
      slot.position = alloc_->Allocate(4);
      if (scratch) slot.attn_scratch = Tensor{alloc_->Allocate(scratch * 4), DType::F32, 1, uint32_t(scratch)};
      slot.attn_counters = alloc_->Allocate(uint64_t(c.num_attention_heads) * 4);  // zeroed below
      slot.images = SlotSoftTokens(uint32_t(c.hidden_size));
      // A prompt chunk's last visible keys for bidirectional images: one chunk per slot per pass.
      if (c.mm.has_vision && c.mm.bidirectional_vision) slot.last_key = alloc_->Allocate(uint64_t(options_.batch) * 4);
      slots_.push_back(std::move(slot));
    }
    rec_ = std::make_unique<vk::Recorder>(gpu_->device());
    // One submission per pass: ids, per-layer rows and decode positions staged in mapped memory and
    // copied in by the pass; its logits copied out into mapped memory (host/runtime/step_staging.h).
    const uint64_t LP = uint64_t(c.num_hidden_layers) * c.hidden_size_per_layer_input;
    io_ = std::make_unique<StepStaging>(
        gpu_->device(), 16 * (uint64_t(slots) + 2) + uint64_t(rows) * 4 + (c.has_ple() ? uint64_t(rows) * LP * 4 : 0),
        uint64_t(slots) * uint64_t(c.vocab_size) * 4);
    for (const LayerInfo& li : c.layers) {  // RoPE inverse frequencies, as Scheduler computes them
      const std::vector<float> f = ref::RopeInvFreq(li.head_dim, li.rope_theta, li.rope_pairs);
      gpu_->transfer().Upload((li.full ? acts_->inv_freq_full : acts_->inv_freq_sliding).slice, f.data(), f.size() * 4);
    }
    // The block-end and split-attention counters start at zero (Activations::block_end_counter)
    const std::vector<uint32_t> zeros(std::max<uint32_t>(1, uint32_t(c.num_attention_heads)), 0);
    gpu_->transfer().Upload(acts_->block_end_counter, zeros.data(), 4);
    gpu_->transfer().Upload(acts_->attn_counters, zeros.data(), zeros.size() * 4);
    for (const Slot& slot : slots_) gpu_->transfer().Upload(slot.attn_counters, zeros.data(), zeros.size() * 4);
  }

  const ModelConfig& config() const override { return config_; }
  uint32_t slots() const override { return uint32_t(slots_.size()); }
  uint32_t context() const override { return context_; }
  uint32_t n_past(uint32_t slot) const override { return At(slot).n_past; }
  void Reset(uint32_t slot) override {
    At(slot).n_past = 0;
    At(slot).images.ForgetFrom(0);
  }
  void AttachMedia(uint32_t slot, std::vector<SlotImage> images, std::vector<SlotAudio> audio) override {
    Slot& s = At(slot);
    const size_t H = size_t(config_.hidden_size);
    std::vector<SlotSoftTokens::Image> encoded;
    for (SlotImage& im : images) {
      std::vector<float> soft = Encode(im.patches);
      encoded.push_back({im.start, uint32_t(soft.size() / H), std::move(soft)});
    }
    for (SlotAudio& a : audio) {
      std::vector<float> soft = EncodeAudio(a.clip);
      encoded.push_back({a.start, uint32_t(soft.size() / H), std::move(soft), /*causal=*/true});
    }
    s.images.ForgetFrom(s.n_past);
    s.images.Add(std::move(encoded));
  }
  uint64_t images_encoded() const override { return images_encoded_; }
  uint64_t audio_encoded() const override { return audio_encoded_; }
  bool Truncate(uint32_t slot, uint32_t n) override {
    Slot& s = At(slot);
    if (n > s.n_past) return false;
    for (size_t l = 0; l < config_.layers.size(); ++l) {
      const LayerInfo& li = config_.layers[l];
      // As Scheduler::Truncate: the window before n survives if fewer than ring - W + 1 positions
      // were written after n.
      if (li.owns_kv(int(l)) && !li.full && s.n_past - n > s.kv->slots(int(l)) - uint32_t(li.window) + 1) return false;
    }
    s.n_past = n;
    s.images.ForgetFrom(n);
    return true;
  }
  MemoryReport memory() const override {
    uint64_t kv = 0, scratch = acts_->bytes;
    for (const Slot& s : slots_) kv += s.kv->bytes(), scratch += s.attn_scratch.slice.size;
    return {model_->device_bytes(), kv, scratch, context_, options_.batch, context_reason_};
  }
  std::string device_name() const override { return gpu_->device().caps().name; }
  int validation_messages() const override { return gpu_->instance().validation_message_count(); }
  uint32_t last_step_dispatches() const { return last_dispatches_; }
  uint32_t last_step_submits() const { return last_submits_; }

  std::vector<std::vector<float>> Step(std::span<const SlotInput> inputs) override {
    Validate(inputs);
    std::vector<uint32_t> sizes;
    for (const SlotInput& in : inputs) sizes.push_back(uint32_t(in.tokens.size()));
    StepPlanOptions po;
    po.batch = options_.batch;
    po.prefill_rows = PrefillRows(options_.batch);
    po.replay_decode = options_.replay_decode;
    po.one_input_per_pass = config_.has_moe();  // the expert products take one sequence per pass
    const size_t V = size_t(config_.vocab_size);
    std::vector<std::vector<float>> logits(inputs.size());
    const std::vector<StepPass> plan = PlanStep(sizes, po);
    if (config_.mm.bidirectional_vision) {  // an image whose tokens see each other is one chunk
      for (const StepPass& pass : plan) {
        for (const StepChunk& ch : pass.chunks) {
          const Slot& s = slots_[inputs[ch.input].slot];
          if (s.images.Splits(s.n_past + ch.first, ch.T)) {
            throw Error(vk::Concat("slot ", inputs[ch.input].slot,
                                   ": a prompt chunk cuts an image whose tokens attend to each other"));
          }
        }
      }
    }
    last_dispatches_ = 0;
    last_submits_ = 0;
    for (const StepPass& pass : plan) RunPass(inputs, pass, logits, V);
    return logits;
  }

 private:
  struct Slot {
    std::unique_ptr<KvCache> kv;
    vk::BufferSlice position;       // the uint32 position of a decode row planned as a replayed step
    Tensor attn_scratch;            // split-decode attention partials (empty when none are needed)
    vk::BufferSlice attn_counters;  // its split-decode attention counters (AttentionShape::split_counters)
    uint32_t n_past = 0;
    SlotSoftTokens images;     // its prompt's encoded images, by position
    vk::BufferSlice last_key;  // [batch] int32: a chunk's bidirectional-image keys (vision models)
  };

  // The vision tower (uploaded on the first image) on one image: [soft tokens][H].
  std::vector<float> Encode(const ImagePatches& image) {
    const ModelConfig& c = config_;
    if (!c.mm.has_vision) {
      throw Error("this model has no vision tower (its config.json has no vision_config): it cannot take images");
    }
    image.Check(c.mm.vision, "image");
    if (!tower_) {
      if (!ckpt_) throw Error("image input needs checkpoint weights");
      CheckVisionTensors(c, ckpt_->weights());
      if (!tower_source_) tower_source_ = CheckpointWeights(*ckpt_);
      tower_ = std::make_unique<GpuVisionTower>(*tower_source_, *gpu_, model_->format());
    }
    std::vector<float> soft = tower_->Encode(image, options_.kernels, options_.features);
    ++images_encoded_;
    return soft;
  }

  // The audio tower (uploaded on the first clip) on one clip: [soft tokens][H], as GpuEngine's
  // (the same weights, format and kernels, so the soft tokens are Engine::EncodeAudio's).
  std::vector<float> EncodeAudio(const AudioFeatures& clip) {
    const ModelConfig& c = config_;
    if (!c.mm.has_audio) {
      throw Error("this model has no audio tower (its config.json has no audio_config): it cannot take audio");
    }
    CheckAudioFeaturesFit(c.mm, clip, "audio clip");
    if (!audio_tower_) {
      if (!ckpt_) throw Error("audio input needs checkpoint weights");
      CheckAudioTensors(c, ckpt_->weights());
      if (!tower_source_) tower_source_ = CheckpointWeights(*ckpt_);
      audio_tower_ = std::make_unique<GpuAudioTower>(*tower_source_, *gpu_, model_->format());
    }
    std::vector<float> soft = audio_tower_->Encode(clip, options_.kernels, options_.features);
    ++audio_encoded_;
    return soft;
  }

  Slot& At(uint32_t slot) {
    if (slot >= slots_.size()) throw Error(vk::Concat("slot ", slot, " does not exist (", slots_.size(), " slots)"));
    return slots_[slot];
  }
  const Slot& At(uint32_t slot) const { return const_cast<GpuBatchEngine*>(this)->At(slot); }

  // Every check before anything is evaluated: a failed step changes nothing.
  void Validate(std::span<const SlotInput> inputs) {
    std::vector<bool> seen(slots_.size(), false);
    for (const SlotInput& in : inputs) {
      const Slot& s = At(in.slot);
      if (seen[in.slot]) throw Error(vk::Concat("slot ", in.slot, " appears twice in one step"));
      seen[in.slot] = true;
      if (in.tokens.empty()) throw Error(vk::Concat("slot ", in.slot, ": an input needs at least one token"));
      if (uint64_t(s.n_past) + in.tokens.size() > context_) {
        throw Error(vk::Concat("slot ", in.slot, ": the prompt needs ", s.n_past + in.tokens.size(),
                               " positions but the context holds ", context_, " (raise --ctx)"));
      }
      for (int32_t id : in.tokens) {
        if (id < 0 || id >= config_.vocab_size) {
          throw Error(vk::Concat("token id ", id, " is outside the vocabulary of ", config_.vocab_size));
        }
      }
    }
  }

  // Records, submits and reads back one pass; advances its slots.
  void RunPass(std::span<const SlotInput> inputs, const StepPass& pass, std::vector<std::vector<float>>& logits,
               size_t V) {
    const ModelConfig& c = config_;
    const uint32_t H = uint32_t(c.hidden_size);
    std::vector<int32_t> ids(pass.rows, 0);
    io_->Clear();
    ForwardBatch fb;
    fb.rows = pass.rows;
    fb.decode_rows = pass.decode_rows;
    std::vector<const StepChunk*> heads;  // chunks whose last row's logits are an input's result
    ChunkImages images;                   // image rows of the pass, their soft rows in `soft`
    std::vector<float> soft;
    for (const StepChunk& ch : pass.chunks) {
      const SlotInput& in = inputs[ch.input];
      Slot& s = slots_[in.slot];
      std::copy_n(in.tokens.begin() + ch.first, ch.T, ids.begin() + ch.row0);
      ForwardSegment seg{ch.row0,  ch.T,
                         s.n_past, s.kv.get(),
                         nullptr,  s.attn_scratch.slice.buffer ? &s.attn_scratch : nullptr,
                         nullptr,  &s.attn_counters};
      // Image and audio rows (docs/model.md §5.3), as Scheduler::Run places them: embedded as <pad>
      // (also their per-layer rows), then their soft tokens copied over; a chunk holding a
      // bidirectional image gives its rows' last visible keys (an image row: its run's last; text
      // and audio rows: themselves).
      const std::vector<SlotSoftTokens::Run> runs = s.images.Runs(s.n_past, ch.T);
      std::vector<int32_t> last;
      const bool bidirectional =
          c.mm.bidirectional_vision && ch.T > 1 &&
          std::any_of(runs.begin(), runs.end(), [](const SlotSoftTokens::Run& r) { return !r.causal; });
      if (bidirectional) {
        last.resize(ch.T);
        for (uint32_t t = 0; t < ch.T; ++t) last[t] = int32_t(s.n_past + t);
      }
      for (const SlotSoftTokens::Run& r : runs) {
        std::fill_n(ids.begin() + ch.row0 + r.row, r.n, int32_t(c.pad_token_id));
        images.runs.push_back({ch.row0 + r.row, r.n});
        soft.insert(soft.end(), r.soft, r.soft + size_t(r.n) * H);
        if (bidirectional && !r.causal) std::fill_n(last.begin() + r.row, r.n, int32_t(s.n_past + r.row + r.n - 1));
      }
      if (bidirectional) {
        gpu_->transfer().Upload(s.last_key, last.data(), last.size() * 4);
        seg.last_key = &s.last_key;
      }
      if (ch.replay) {
        // As the replayed decode recording: planned for the context's last position, the real one
        // read from the slot's position buffer.
        *static_cast<uint32_t*>(io_->Stage(s.position, 4)) = s.n_past;
        seg.start_pos = context_ - 1;
        seg.position = &s.position;
      }
      fb.segments.push_back(seg);
      if (ch.last) heads.push_back(&ch);
    }
    if (!soft.empty()) {
      gpu_->transfer().Upload(acts_->soft.slice, soft.data(), soft.size() * 4);
      fb.images = &images;
    }
    StageRows(ids);
    OpContext ctx{gpu_->device(), gpu_->pipelines(), *rec_, options_.kernels, options_.features};
    rec_->Begin();
    io_->RecordInputs(*rec_);
    RecordForwardBatch(ctx, *model_, *acts_, fb);
    const uint32_t n = uint32_t(heads.size());
    if (n) {
      // Each finishing input's last row to its head row, then one batched-decode head product (each
      // row as the one-row head of Engine computes it).
      rec_->ComputeToTransfer();
      for (uint32_t i = 0; i < n; ++i) {
        const uint32_t row = heads[i]->row0 + heads[i]->T - 1;
        rec_->CopyBuffer(acts_->x.slice.Sub(uint64_t(row) * H * 4, uint64_t(H) * 4),
                         acts_->head_in.slice.Sub(uint64_t(i) * H * 4, uint64_t(H) * 4));
      }
      rec_->TransferToCompute();
      MatMulOptions mo;
      mo.softcap = c.final_logit_softcapping;
      mo.rows_as_decode = true;
      MatMul(ctx, model_->head(), View(acts_->head_in, n, H), View(acts_->logits, n, uint32_t(V)), mo);
    }
    const float* out =
        n ? static_cast<const float*>(io_->RecordOutput(*rec_, acts_->logits.slice.Sub(0, n * V * 4))) : nullptr;
    if (!n) rec_->ToHost();
    rec_->End();
    last_dispatches_ += rec_->dispatch_count();
    rec_->Submit();
    ++last_submits_;
    for (uint32_t i = 0; i < n; ++i) logits[heads[i]->input].assign(out + i * V, out + (i + 1) * V);
    for (const StepChunk& ch : pass.chunks) {
      Slot& s = slots_[inputs[ch.input].slot];
      s.n_past += ch.T;
      s.images.ForgetBefore(s.n_past);
    }
  }

  // The pass's token ids and, with per-layer embeddings, their rows of the host table, written
  // into the mapped staging the pass copies from.
  void StageRows(const std::vector<int32_t>& ids) {
    const ModelConfig& c = config_;
    std::memcpy(io_->Stage(acts_->ids, ids.size() * 4), ids.data(), ids.size() * 4);
    if (!c.has_ple()) return;
    const size_t LP = size_t(c.num_hidden_layers) * c.hidden_size_per_layer_input;
    auto* rows = static_cast<float*>(io_->Stage(acts_->ple_tok.slice, ids.size() * LP * 4));
    for (size_t t = 0; t < ids.size(); ++t) {
      int32_t id = ids[t];
      if (id >= c.vocab_size_per_layer_input) id = 0;  // HF reads <pad> outside the PLE vocabulary
      model_->ple_row()(uint32_t(id), rows + t * LP);
    }
  }

  // Decode rows lie one after another in the scratch, each bound at its own offset (attention,
  // per-sequence products): every row length must be a multiple of the device's binding alignment
  // (16 bytes at least, which also keeps the vec4 paths the rows take alone). All real Gemma 4
  // shapes and the test checkpoints are.
  void CheckRowAlignment() const {
    const vk::DeviceCaps& caps = gpu_->device().caps();
    const uint64_t align = std::max<uint64_t>({16, caps.min_storage_offset_alignment, caps.min_texel_offset_alignment});
    const ModelConfig& c = config_;
    std::vector<uint64_t> cols{uint64_t(c.hidden_size)};
    if (c.has_ple()) {
      cols.push_back(uint64_t(c.hidden_size_per_layer_input));
      cols.push_back(uint64_t(c.hidden_size_per_layer_input) * c.num_hidden_layers);
    }
    for (size_t l = 0; l < c.layers.size(); ++l) {
      const LayerInfo& li = c.layers[l];
      const GpuLayer& w = model_->layer(int(l));
      const uint64_t q = uint64_t(c.num_attention_heads) * li.head_dim;
      cols.insert(cols.end(), {q, q + w.kv_rows + w.v_rows, uint64_t(li.ffn_dim), 2ull * li.ffn_dim});
    }
    for (uint64_t n : cols) {
      if (n * 4 % align != 0) {
        throw Error(vk::Concat("continuous batching needs activation rows of a multiple of ", align / 4, " floats on ",
                               caps.name, "; this model has rows of ", n));
      }
    }
  }

  std::optional<Checkpoint> ckpt_;  // the weights are read from its mapping while uploading
  ModelConfig config_;
  EngineOptions options_;
  std::unique_ptr<GpuContext> gpu_;  // before everything on the device: destroyed last
  std::unique_ptr<GpuModel> model_;
  std::unique_ptr<vk::BlockAllocator> alloc_;
  std::unique_ptr<Activations> acts_;
  std::vector<Slot> slots_;
  std::unique_ptr<vk::Recorder> rec_;
  std::unique_ptr<StepStaging> io_;             // the pass's inputs and logits, mapped
  std::unique_ptr<WeightSource> tower_source_;  // the checkpoint, read by the tower
  std::unique_ptr<GpuVisionTower> tower_;       // on the first image
  std::unique_ptr<GpuAudioTower> audio_tower_;  // on the first clip
  uint64_t images_encoded_ = 0;
  uint64_t audio_encoded_ = 0;
  uint32_t context_ = 0;
  std::string context_reason_;  // MemoryReport::context_reason
  uint32_t last_dispatches_ = 0;
  uint32_t last_submits_ = 0;
};

}  // namespace

std::unique_ptr<BatchEngine> OpenGpuBatchEngine(const std::string& model_dir, const EngineOptions& options,
                                                uint32_t slots) {
  if (options.device == "cpu") throw Error("the GPU batch engine does not run on --device cpu");
  Checkpoint ckpt = Checkpoint::Load(model_dir, options.mmproj);
  const ModelConfig config = ckpt.config();
  const DType format = options.weights.value_or(ckpt.stored_format());
  const bool own_types = !options.weights && ckpt.is_gguf();  // as Engine::Open
  return std::make_unique<GpuBatchEngine>(std::move(ckpt), config, 0, format, options, slots, own_types);
}

std::unique_ptr<BatchEngine> OpenSyntheticGpuBatchEngine(const ModelConfig& config, const EngineOptions& options,
                                                         uint32_t slots, uint64_t seed) {
  if (options.device == "cpu") throw Error("synthetic weights run on a GPU device only, not --device cpu");
  return std::make_unique<GpuBatchEngine>(std::nullopt, config, seed, options.weights.value_or(DType::BF16), options,
                                          slots);
}

uint32_t LastStepDispatches(const BatchEngine& engine) {
  const auto* gpu = dynamic_cast<const GpuBatchEngine*>(&engine);
  return gpu ? gpu->last_step_dispatches() : 0;
}

uint32_t LastStepSubmits(const BatchEngine& engine) {
  const auto* gpu = dynamic_cast<const GpuBatchEngine*>(&engine);
  return gpu ? gpu->last_step_submits() : 0;
}

}  // namespace vkg
