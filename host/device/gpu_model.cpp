// Uploading a checkpoint's text-decoder weights to the device (layer: host/device).
#include "host/device/gpu_model.h"

#include <cmath>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "host/device/gpu_context.h"
#include "host/error.h"
#include "host/model/tensor_names.h"
#include "vk/check.h"

namespace vkg {
namespace {

// The type a matrix stored as `stored` (a GGUF tensor's block type; nullopt for float tensors and
// safetensors checkpoints) computes in when block-quantized tensors keep their own types: the stored
// type, uploaded as stored, unless a scale is folded into its rows (the per-layer model projection)
// or its rows are not whole blocks; then the file's compute format, or f32 where that is itself
// block-quantized (a file of one quantized type), so that no value is quantized twice.
DType KeptType(DType format, std::optional<DType> stored, uint32_t cols, float scale) {
  if (!stored) return ScaledMatrixFormat(format, scale);
  const DType fallback = IsQuantized(format) ? DType::F32 : format;
  if (scale != 1.f || cols % BlockValues(*stored) != 0) return fallback;
  return *stored;
}

class Loader {
 public:
  Loader(const WeightSource& src, GpuContext& gpu, vk::BlockAllocator& alloc, DType format, bool own_types,
         const UploadProgress& progress, std::set<DType>& used)
      : src_(src),
        gpu_(gpu),
        alloc_(alloc),
        format_(format),
        own_types_(own_types),
        progress_(progress),
        used_(used),
        total_(src.total_bytes()) {}

  // A [rows][cols] matrix (or a row range of one) in the compute format, or in its own stored type
  // (KeptType).
  WeightMatrix Matrix(const std::string& name, uint32_t rows, uint32_t cols, uint32_t row_offset = 0,
                      float scale = 1.f) {
    return Upload({{name, rows}}, TypeOf(name, cols, scale), cols, row_offset, scale);
  }

  // Matrices of `cols` columns stacked row-wise into one, in order (gate and up, q k and v: one
  // product reads the activations once). Parts that keep different own types (Q4_K_M's attn_q and
  // attn_k in Q4_K, attn_v in Q6_K) become WeightMatrix::parts, one per run of equal type, each in
  // its own type: one dispatch per run instead of one in all, and no f32 copy of quantized blocks.
  WeightMatrix Stacked(const std::vector<std::pair<std::string, uint32_t>>& parts, uint32_t cols) {
    std::vector<std::vector<std::pair<std::string, uint32_t>>> runs;
    std::vector<DType> types;
    for (const auto& part : parts) {
      const DType t = TypeOf(part.first, cols, 1.f);
      if (types.empty() || types.back() != t) {
        runs.emplace_back();
        types.push_back(t);
      }
      runs.back().push_back(part);
    }
    if (runs.size() == 1) return Upload(parts, types[0], cols, 0, 1.f);
    std::vector<WeightMatrix> stack;
    for (size_t i = 0; i < runs.size(); ++i) stack.push_back(Upload(runs[i], types[i], cols, 0, 1.f));
    return StackMatrices(std::move(stack));
  }

  Tensor Vector(const std::string& name) {
    const std::vector<float> v = src_.Vector(name);
    const vk::BufferSlice s = alloc_.Allocate(v.size() * 4);
    gpu_.transfer().Upload(s, v.data(), v.size() * 4);
    Advance(v.size() * src_.ValueBytes(name));
    return Tensor{s, DType::F32, 1, uint32_t(v.size())};
  }

  void Advance(uint64_t bytes) {
    done_ = std::min(total_, done_ + bytes);
    if (progress_) progress_(done_, total_);
  }

 private:
  DType TypeOf(const std::string& name, uint32_t cols, float scale) const {
    return own_types_ ? KeptType(format_, src_.StoredType(name), cols, scale) : ScaledMatrixFormat(format_, scale);
  }

  // Tensors `parts` ([rows][cols] each, from row_offset on: only single tensors pass one) stacked into one matrix of
  // type t. The file's blocks are uploaded as stored (bits moved into the device layout, never
  // re-quantized) where every part is stored in t (KeptType gives a scaled matrix another type).
  WeightMatrix Upload(const std::vector<std::pair<std::string, uint32_t>>& parts, DType t, uint32_t cols,
                      uint32_t row_offset, float scale) {
    std::vector<RowSource> sources;
    std::vector<RawRowSource> raws;
    std::string name;
    uint32_t rows = 0;
    uint64_t bytes = 0;
    for (const auto& [part, part_rows] : parts) {
      sources.push_back(src_.Rows(part, cols, row_offset, scale));
      if (own_types_ && IsQuantized(t) && src_.StoredType(part) == t && scale == 1.f) {
        raws.push_back(src_.RawRows(part, cols, row_offset));
      }
      name += (name.empty() ? "" : "+") + part;
      rows += part_rows;
      bytes += uint64_t(part_rows) * cols * src_.ValueBytes(part);
    }
    auto part_of = [&parts](uint32_t& r) {
      size_t i = 0;
      while (r >= parts[i].second) r -= parts[i++].second;
      return i;
    };
    RawRowSource raw;
    if (raws.size() == parts.size()) {
      raw = [&](uint32_t r, uint8_t* out) {
        const size_t i = part_of(r);
        raws[i](r, out);
      };
    }
    WeightMatrix m = UploadWeightMatrix(
        gpu_.device(), alloc_, gpu_.transfer(), t, rows, cols,
        [&](uint32_t r, float* out) {
          const size_t i = part_of(r);
          sources[i](r, out);
        },
        name, 0, raw);
    used_.insert(t);
    Advance(bytes);
    return m;
  }

  const WeightSource& src_;
  GpuContext& gpu_;
  vk::BlockAllocator& alloc_;
  DType format_;
  bool own_types_;
  const UploadProgress& progress_;
  std::set<DType>& used_;
  uint64_t done_ = 0, total_ = 0;
};

std::string L(int l, const char* rest) { return "layers." + std::to_string(l) + "." + rest; }

}  // namespace

GpuModel::GpuModel(std::unique_ptr<WeightSource> source, GpuContext& gpu, DType format, const UploadProgress& progress,
                   bool own_types)
    : source_(std::move(source)), config_(source_->config()), format_(format) {
  weights_ = std::make_unique<vk::BlockAllocator>(gpu.device(), vk::MemoryKind::kDeviceLocal, "weights");
  const WeightSource& src = *source_;
  Loader ld(src, gpu, *weights_, format, own_types, progress, formats_);
  const ModelConfig& c = config_;
  const uint32_t H = uint32_t(c.hidden_size), V = uint32_t(c.vocab_size), NH = uint32_t(c.num_attention_heads);

  embed_ = ld.Matrix("embed_tokens.weight", V, H);
  if (!c.tie_word_embeddings) lm_head_ = ld.Matrix("lm_head.weight", V, H);
  final_norm_ = ld.Vector("norm.weight");
  const uint32_t P = uint32_t(c.hidden_size_per_layer_input);
  if (c.has_ple()) {
    ple_rows_ = src.Rows("embed_tokens_per_layer.weight", uint32_t(c.num_hidden_layers) * P, 0, c.ple_embed_scale());
    ple_proj_norm_ = ld.Vector("per_layer_projection_norm.weight");
    // ctx = (W_plmp x0) * H^-0.5 (docs/model.md §2.3): the constant is folded into the rows.
    ple_model_proj_ = ld.Matrix("per_layer_model_projection.weight", uint32_t(c.num_hidden_layers) * P, H, 0,
                                float(1.0 / std::sqrt(double(H))));
  }

  layers_.resize(size_t(c.num_hidden_layers));
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const LayerInfo& li = c.layers[size_t(l)];
    GpuLayer& g = layers_[size_t(l)];
    const uint32_t D = uint32_t(li.head_dim), KVH = uint32_t(li.n_kv_heads), I = uint32_t(li.ffn_dim);
    g.input_norm = ld.Vector(L(l, "input_layernorm.weight"));
    g.post_attn_norm = ld.Vector(L(l, "post_attention_layernorm.weight"));
    g.pre_ffn_norm = ld.Vector(L(l, "pre_feedforward_layernorm.weight"));
    g.post_ffn_norm = ld.Vector(L(l, "post_feedforward_layernorm.weight"));
    std::vector<std::pair<std::string, uint32_t>> qkv = {{L(l, "self_attn.q_proj.weight"), NH * D}};
    if (li.owns_kv(l)) {
      g.kv_rows = KVH * D;
      qkv.push_back({L(l, "self_attn.k_proj.weight"), g.kv_rows});
      if (li.has_v) {
        g.v_rows = KVH * D;
        qkv.push_back({L(l, "self_attn.v_proj.weight"), g.v_rows});
      }
      g.k_norm = ld.Vector(L(l, "self_attn.k_norm.weight"));
    }
    g.qkv = ld.Stacked(qkv, H);
    g.q_norm = ld.Vector(L(l, "self_attn.q_norm.weight"));
    g.o_proj = ld.Matrix(L(l, "self_attn.o_proj.weight"), H, NH * D);
    g.gate_up = ld.Stacked({{L(l, "mlp.gate_proj.weight"), I}, {L(l, "mlp.up_proj.weight"), I}}, H);
    g.down = ld.Matrix(L(l, "mlp.down_proj.weight"), H, I);
    g.layer_scalar = src.Vector(L(l, "layer_scalar")).at(0);

    if (c.has_moe()) {
      const uint32_t E = uint32_t(c.num_experts), IM = uint32_t(c.moe_intermediate_size);
      // Fold rmsnorm_noweight(x) * scale * H^-0.5 into the router's columns: the router then reads
      // the weightless norm directly. Kept in f32: routing decisions must not move with the format.
      std::vector<float> proj(size_t(E) * H);  // [E][H]
      const RowSource proj_rows = src.Rows(L(l, "router.proj.weight"), H);
      for (uint32_t e = 0; e < E; ++e) proj_rows(e, &proj[size_t(e) * H]);
      const std::vector<float> scale = src.Vector(L(l, "router.scale"));  // [H]
      const float root = float(1.0 / std::sqrt(double(H)));
      for (uint32_t e = 0; e < E; ++e) {
        for (uint32_t i = 0; i < H; ++i) proj[size_t(e) * H + i] *= scale[i] * root;
      }
      g.router = UploadWeightMatrix(
          gpu.device(), *weights_, gpu.transfer(), DType::F32, E, H,
          [&](uint32_t r, float* out) { std::copy_n(&proj[size_t(r) * H], H, out); }, L(l, "router.proj.weight"));
      g.per_expert_scale = ld.Vector(L(l, "router.per_expert_scale"));
      g.experts_gate_up = ld.Matrix(L(l, "experts.gate_up_proj"), E * 2 * IM, H);
      g.experts_down = ld.Matrix(L(l, "experts.down_proj"), E * H, IM);
      g.pre_ffn_norm_2 = ld.Vector(L(l, "pre_feedforward_layernorm_2.weight"));
      g.post_ffn_norm_1 = ld.Vector(L(l, "post_feedforward_layernorm_1.weight"));
      g.post_ffn_norm_2 = ld.Vector(L(l, "post_feedforward_layernorm_2.weight"));
    }
    if (c.has_ple()) {
      g.ple_gate = ld.Matrix(L(l, "per_layer_input_gate.weight"), P, H);
      g.ple_proj = ld.Matrix(L(l, "per_layer_projection.weight"), H, P);
      g.ple_post_norm = ld.Vector(L(l, "post_per_layer_input_norm.weight"));
    }
  }
}

std::string GpuModel::formats() const {
  std::string s;
  for (DType t : formats_) s += (s.empty() ? "" : "+") + std::string(DTypeName(t));
  return s.empty() ? std::string(DTypeName(format_)) : s;
}

DType ScaledMatrixFormat(DType format, float scale) {
  // Every super-block format (K-quants, Q2_K / Q3_K too: their f16 super-block scales are as
  // small, max / 45, max / 128).
  const bool super_scales = BlockValues(format) == uint32_t(kKQuantBlock);
  return scale != 1.f && super_scales ? DType::F16 : format;
}

uint64_t GpuModel::EstimateBytes(const ModelConfig& config, DType format, const StoredTypeOf& own,
                                 std::set<DType>* types) {
  uint64_t bytes = 0;
  ForEachTensor(config, [&](const TensorSpec& s) {
    // Not on the device as such: the per-layer-embedding table (host memory, rows uploaded per
    // token), the layer scalars (push constants) and router.scale (folded into the router's columns).
    if (s.name == "embed_tokens_per_layer.weight" || s.name.ends_with("layer_scalar") ||
        s.name.ends_with("router.scale")) {
      return;
    }
    uint64_t rows = 1;
    for (size_t i = 0; i + 1 < s.shape.size(); ++i) rows *= uint64_t(s.shape[i]);
    const uint64_t cols = uint64_t(s.shape.back());
    if (!InComputeFormat(s)) {  // norms, scalars, the router: f32
      bytes += rows * cols * 4;
      return;
    }
    // Own types per tensor, as the Loader keeps them (stacks of mixed types keep each part's).
    // The per-layer model projection has H^-0.5 folded into its rows.
    const float scale = s.name == "per_layer_model_projection.weight" ? 0.5f : 1.f;
    const DType t = own ? KeptType(format, own(s.name), uint32_t(cols), scale) : ScaledMatrixFormat(format, scale);
    if (types) types->insert(t);
    const uint32_t padded = PaddedCols(t, uint32_t(cols));
    bytes += rows * (WeightRowBytes(t, padded) + WeightScaleRowBytes(t, padded));
  });
  return bytes;
}

}  // namespace vkg
