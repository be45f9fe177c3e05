// Scheduler (layer: host/runtime).
#include "host/runtime/scheduler.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "host/device/gpu_context.h"
#include "host/error.h"
#include "host/reference/ref_ops.h"
#include "host/runtime/forward.h"
#include "vk/check.h"

namespace vkg {
namespace {
// "70.31 GiB", or "10.8 MiB" under 1 GiB.
std::string Size(uint64_t bytes) {
  char buf[32];
  if (bytes < (uint64_t(1) << 30)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / double(1 << 20));
  } else {
    std::snprintf(buf, sizeof buf, "%.2f GiB", double(bytes) / double(uint64_t(1) << 30));
  }
  return buf;
}
}  // namespace

Scheduler::DeviceRoom Scheduler::UsableDeviceMemory(uint64_t heap, uint64_t budget, uint64_t limit) {
  DeviceRoom r{heap / 10 * 9, "90% of the device-local heap"};
  if (budget && budget < r.usable) r = {budget, "the heap's budget"};
  if (limit && limit < r.usable) r = {limit, "the device_memory limit"};
  return r;
}

Scheduler::ContextChoice Scheduler::DefaultContext(const ModelConfig& config, const DeviceRoom& room,
                                                   const std::string& device, uint64_t weight_bytes,
                                                   uint64_t scratch_bytes, uint32_t batch, DType kv_dtype,
                                                   uint32_t slots) {
  const uint64_t wanted = uint64_t(config.max_position_embeddings);
  const uint64_t per_context_token = KvCache::BytesPerContextToken(config, kv_dtype);
  const uint64_t per_token = std::max<uint64_t>(1, per_context_token) * slots;
  // Sliding-window rings do not grow with the context: what the caches need beyond per_token each.
  const uint64_t rings =
      (KvCache::Bytes(config, uint32_t(wanted), batch, kv_dtype) - per_context_token * wanted) * slots;
  const uint64_t fixed = weight_bytes + scratch_bytes + rings;
  const uint64_t fits = room.usable > fixed ? (room.usable - fixed) / per_token : 0;
  if (fits >= wanted) {
    return {uint32_t(wanted), vk::Concat("the model's maximum; fits ", Size(room.usable), " usable, ", room.bound)};
  }
  if (fits < 256) {
    throw Error(vk::Concat("the model does not fit ", device, slots > 1 ? vk::Concat(" with ", slots, " slots") : "",
                           ": weights need ", weight_bytes >> 20, " MiB and scratch ", scratch_bytes >> 20, " MiB of ",
                           room.usable >> 20, " MiB usable device memory (", room.bound,
                           "; try a smaller --weights format", slots > 1 ? " or fewer slots" : "", ")"));
  }
  return {uint32_t(fits / 256 * 256), vk::Concat("the largest that fits ", Size(room.usable), " usable, ", room.bound,
                                                 ", with a ", DTypeName(kv_dtype), " cache")};
}

uint32_t Scheduler::DefaultBatch(const ModelConfig& config, const vk::DeviceCaps& caps, uint64_t weight_bytes,
                                 DType kv_dtype) {
  if (caps.type == VK_PHYSICAL_DEVICE_TYPE_CPU) return kCpuBatch;
  const uint64_t heap = caps.DeviceLocalBytes() / 10 * 9;
  const uint32_t ctx = std::min<uint32_t>(256, uint32_t(config.max_position_embeddings));
  uint32_t batch = kGpuBatch;
  while (batch > kCpuBatch &&
         weight_bytes + Activations::Bytes(config, batch, 8, ctx) + KvCache::Bytes(config, ctx, batch, kv_dtype) >
             heap) {
    batch /= 2;
  }
  return batch;
}

Scheduler::Scheduler(GpuContext& gpu, const GpuModel& model, const SchedulerOptions& options)
    : gpu_(gpu), model_(model), options_(options) {
  const ModelConfig& c = model.config();
  VKG_CHECK(options.batch >= 1, "batch must be at least 1");
  alloc_ = std::make_unique<vk::BlockAllocator>(gpu.device(), vk::MemoryKind::kDeviceLocal, "activations");
  const uint32_t max_ctx = options.context ? options.context : uint32_t(c.max_position_embeddings);
  acts_ = std::make_unique<Activations>(c, *alloc_, options.batch, options.logit_rows, max_ctx);
  uint32_t context = options.context;
  if (context == 0) {
    const vk::Device& dev = gpu.device();
    const ContextChoice choice = DefaultContext(
        c, UsableDeviceMemory(dev.caps().DeviceLocalBytes(), dev.DeviceLocalBudget(), options.device_memory),
        dev.caps().name, model.device_bytes(), acts_->bytes, options.batch, options.kv_dtype);
    context = choice.context;
    context_reason_ = choice.reason;
  } else if (context > uint32_t(c.max_position_embeddings)) {
    throw Error(
        vk::Concat("--ctx ", context, " exceeds the model's max_position_embeddings of ", c.max_position_embeddings));
  } else {
    context_reason_ = "--ctx";
  }
  kv_ = std::make_unique<KvCache>(c, *alloc_, context, options.batch, options.kv_dtype);
  rec_ = std::make_unique<vk::Recorder>(gpu.device());
  decode_rec_ = std::make_unique<vk::Recorder>(gpu.device());
  if (c.has_ple()) ple_rows_.resize(size_t(options.batch) * c.num_hidden_layers * c.hidden_size_per_layer_input);

  // RoPE inverse frequencies of each layer type, computed once in float32 as HF does.
  for (const LayerInfo& li : c.layers) {
    const std::vector<float> f = ref::RopeInvFreq(li.head_dim, li.rope_theta, li.rope_pairs);
    gpu.transfer().Upload((li.full ? acts_->inv_freq_full : acts_->inv_freq_sliding).slice, f.data(), f.size() * 4);
  }
  // The block-end and split-attention counters start at zero (Activations::block_end_counter)
  const std::vector<uint32_t> zeros(std::max<uint32_t>(1, uint32_t(c.num_attention_heads)), 0);
  gpu.transfer().Upload(acts_->block_end_counter, zeros.data(), 4);
  gpu.transfer().Upload(acts_->attn_counters, zeros.data(), zeros.size() * 4);
}

bool Scheduler::Truncate(uint32_t n) {
  if (n > n_past_) return false;
  const ModelConfig& c = model_.config();
  for (size_t l = 0; l < c.layers.size(); ++l) {
    const LayerInfo& li = c.layers[l];
    // Slot of position j is j % slots: the window before n survives if fewer than
    // slots - W + 1 positions were written after n.
    if (li.owns_kv(int(l)) && !li.full && n_past_ - n > kv_->slots(int(l)) - uint32_t(li.window) + 1) return false;
  }
  n_past_ = n;
  return true;
}

namespace {
void CheckTokens(const ModelConfig& c, std::span<const int32_t> tokens) {
  for (int32_t id : tokens) {
    if (id < 0 || id >= c.vocab_size) {
      throw Error(vk::Concat("token id ", id, " is outside the vocabulary of ", c.vocab_size));
    }
  }
}
}  // namespace

void Scheduler::UploadChunk(std::span<const int32_t> chunk, const ChunkImages* images) {
  const ModelConfig& c = model_.config();
  CheckTokens(c, chunk);
  // Image rows embed as <pad> (then their soft tokens replace the embedding) and read the pad row
  // of the per-layer-embedding table, as HF does (§5.3).
  std::vector<int32_t> ids(chunk.begin(), chunk.end());
  if (images) {
    for (const ChunkImages::Run& r : images->runs) std::fill_n(ids.begin() + r.row, r.n, int32_t(c.pad_token_id));
  }
  const std::span<const int32_t> tokens(ids);
  gpu_.transfer().Upload(acts_->ids, tokens.data(), tokens.size_bytes());
  ++submits_;
  if (!c.has_ple()) return;
  // Per-layer embeddings: only these tokens' rows of the big host table go to the device.
  const size_t LP = size_t(c.num_hidden_layers) * c.hidden_size_per_layer_input;
  for (size_t t = 0; t < tokens.size(); ++t) {
    int32_t id = tokens[t];
    if (id >= c.vocab_size_per_layer_input) id = 0;  // HF reads <pad> outside the PLE vocabulary
    model_.ple_row()(uint32_t(id), &ple_rows_[t * LP]);
  }
  gpu_.transfer().Upload(acts_->ple_tok.slice, ple_rows_.data(), tokens.size() * LP * 4);
  ++submits_;
}

std::vector<float> Scheduler::Forward(std::span<const int32_t> tokens, bool all_logits) {
  return Run(tokens, all_logits, nullptr, nullptr, false);
}

std::vector<float> Scheduler::ForwardWithSoftTokens(std::span<const int32_t> tokens, bool all_logits,
                                                    const std::vector<ImageSpan>& spans, const std::vector<float>& soft,
                                                    bool bidirectional) {
  const size_t H = size_t(model_.config().hidden_size);
  size_t rows = 0;
  for (const ImageSpan& sp : spans) {
    VKG_CHECK(sp.start >= 0 && size_t(sp.start) + size_t(sp.length) <= tokens.size(),
              "ForwardWithSoftTokens: a span is outside the tokens");
    rows += size_t(sp.length);
  }
  VKG_CHECK(soft.size() == rows * H, "ForwardWithSoftTokens: ", soft.size() / H, " soft tokens for ", rows,
            " image rows");
  VKG_CHECK(spans.empty() || acts_->soft.rows > 0, "ForwardWithSoftTokens: the model has no vision or audio tower");
  if (bidirectional) {
    for (const ImageSpan& sp : spans) {
      if (!sp.causal && uint32_t(sp.length) > options_.batch) {
        throw Error(vk::Concat("an image of ", sp.length, " soft tokens needs --batch ", sp.length,
                               " or more: its tokens attend to each other, so it is evaluated in one chunk"));
      }
    }
  }
  return Run(tokens, all_logits, &spans, &soft, bidirectional);
}

std::vector<float> Scheduler::Run(std::span<const int32_t> tokens, bool all_logits, const std::vector<ImageSpan>* spans,
                                  const std::vector<float>* soft, bool bidirectional) {
  const ModelConfig& c = model_.config();
  const bool images = spans && !spans->empty();
  const uint32_t V = uint32_t(c.vocab_size), n = uint32_t(tokens.size());
  if (n == 0) return {};
  if (uint64_t(n_past_) + n > context()) {
    throw Error(
        vk::Concat("the prompt needs ", n_past_ + n, " positions but the context holds ", context(), " (raise --ctx)"));
  }
  std::vector<float> logits(size_t(all_logits ? n : 1) * V);
  if (n == 1 && options_.replay_decode && !images) {
    DecodeStep(tokens[0], logits.data());
    return logits;
  }
  OpContext ctx{gpu_.device(), gpu_.pipelines(), *rec_, options_.kernels, options_.features};
  const size_t H = size_t(c.hidden_size);
  uint32_t T = 0;
  for (uint32_t done = 0; done < n; done += T) {
    T = std::min(options_.batch, n - done);
    ChunkImages chunk_images;
    if (images) {
      // A bidirectional image never straddles chunks: the chunk ends before it instead.
      for (const ImageSpan& sp : *spans) {
        const uint32_t s0 = uint32_t(sp.start), s1 = s0 + uint32_t(sp.length);
        if (bidirectional && !sp.causal && s0 > done && s0 < done + T && s1 > done + T) T = s0 - done;
      }
      std::vector<float> rows;
      std::vector<int32_t> last(T);
      for (uint32_t t = 0; t < T; ++t) last[t] = int32_t(n_past_ + t);
      size_t offset = 0;  // soft row of the span's first token
      for (const ImageSpan& sp : *spans) {
        const uint32_t s0 = uint32_t(sp.start), s1 = s0 + uint32_t(sp.length);
        const uint32_t a = std::max(s0, done), b = std::min(s1, done + T);
        if (a < b) {
          chunk_images.runs.push_back({a - done, b - a});
          const auto first = soft->begin() + std::ptrdiff_t((offset + (a - s0)) * H);
          rows.insert(rows.end(), first, first + std::ptrdiff_t(size_t(b - a) * H));
          if (!sp.causal) {
            for (uint32_t t = a; t < b; ++t) last[t - done] = int32_t(n_past_ + (b - done) - 1);
          }
        }
        offset += size_t(sp.length);
      }
      chunk_images.bidirectional = bidirectional && !chunk_images.runs.empty() && T > 1;
      if (!rows.empty()) gpu_.transfer().Upload(acts_->soft.slice, rows.data(), rows.size() * 4);
      if (chunk_images.bidirectional) gpu_.transfer().Upload(acts_->last_key, last.data(), last.size() * 4);
    }
    const ChunkImages* chunk = chunk_images.runs.empty() ? nullptr : &chunk_images;
    UploadChunk(tokens.subspan(done, T), chunk);
    // Rows of this chunk whose logits are wanted: all of them, or the prompt's last token.
    const uint32_t first = all_logits ? 0 : (done + T == n ? T - 1 : T);
    rec_->Begin();
    RecordForward(ctx, model_, *kv_, *acts_, T, n_past_, nullptr, chunk);
    uint32_t row = first;
    bool head_pending = row < T;
    while (true) {
      const uint32_t rows = head_pending ? std::min(options_.logit_rows, T - row) : 0;
      if (rows) RecordHead(ctx, model_, *acts_, row, rows);
      rec_->ToHost();
      rec_->End();
      rec_->Submit();
      ++submits_;
      if (!rows) break;
      const size_t out_row = all_logits ? done + row : 0;
      gpu_.transfer().Download(acts_->logits.slice, &logits[out_row * V], size_t(rows) * V * 4);
      ++submits_;
      row += rows;
      head_pending = row < T;
      if (!head_pending) break;
      rec_->Begin();
    }
    n_past_ += T;
  }
  return logits;
}

void Scheduler::DecodeStep(int32_t token, float* logits) {
  const ModelConfig& c = model_.config();
  CheckTokens(c, std::span(&token, 1));
  const size_t V = size_t(c.vocab_size), LP = size_t(c.num_hidden_layers) * c.hidden_size_per_layer_input;
  if (!decode_recorded_) {
    // One submission per token: the token id, position and per-layer rows are written into mapped
    // memory that the step copies in first; the logits are copied out last (StepStaging).
    if (!decode_io_) decode_io_ = std::make_unique<StepStaging>(gpu_.device(), 64 + LP * 4, V * 4);
    decode_io_->Clear();
    decode_id_ = static_cast<int32_t*>(decode_io_->Stage(acts_->ids, 4));
    decode_pos_ = static_cast<uint32_t*>(decode_io_->Stage(acts_->position, 4));
    decode_ple_ = c.has_ple() ? static_cast<float*>(decode_io_->Stage(acts_->ple_tok.slice, LP * 4)) : nullptr;
    // Recorded for the last position of the context: the attention splits are planned for the
    // longest cache, and every position-dependent op reads the real one from acts.position.
    OpContext ctx{gpu_.device(), gpu_.pipelines(), *decode_rec_, options_.kernels, options_.features};
    decode_rec_->Begin();
    decode_io_->RecordInputs(*decode_rec_);
    RecordForward(ctx, model_, *kv_, *acts_, 1, context() - 1, &acts_->position);
    RecordHead(ctx, model_, *acts_, 0, 1);
    decode_logits_ =
        static_cast<const float*>(decode_io_->RecordOutput(*decode_rec_, acts_->logits.slice.Sub(0, V * 4)));
    decode_rec_->End();
    decode_dispatches_ = decode_rec_->dispatch_count();
    decode_barriers_ = decode_rec_->barrier_count();
    decode_barrier_requests_ = decode_rec_->barrier_requests();
    decode_recorded_ = true;
  }
  *decode_id_ = token;
  *decode_pos_ = n_past_;
  if (decode_ple_) {
    // HF reads <pad> outside the per-layer-input vocabulary (UploadChunk does the same).
    model_.ple_row()(uint32_t(token < c.vocab_size_per_layer_input ? token : 0), decode_ple_);
  }
  decode_rec_->Submit();
  ++submits_;
  std::memcpy(logits, decode_logits_, V * 4);
  n_past_ += 1;
}

void Scheduler::SetProfiler(vk::TimestampPool* pool) {
  rec_->AttachProfiler(pool);
  decode_rec_->AttachProfiler(pool);
  decode_recorded_ = false;  // the timestamps are recorded into the command buffer
}

std::vector<vk::Recorder::OpTime> Scheduler::TakeProfile() {
  std::vector<vk::Recorder::OpTime> all = rec_->TakeProfile();
  for (auto& t : decode_rec_->TakeProfile()) all.push_back(std::move(t));
  return all;
}

}  // namespace vkg
