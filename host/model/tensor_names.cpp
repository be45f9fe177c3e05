// Tensor list and checks for the Gemma 4 text decoder (layer: host/model). docs/model.md §3.1.
#include "host/model/tensor_names.h"

#include "host/error.h"
#include "host/model/safetensors.h"

namespace vkg {

void ForEachTensor(const ModelConfig& c, const std::function<void(const TensorSpec&)>& fn) {
  using R = TensorRole;
  const int64_t H = c.hidden_size, V = c.vocab_size, L = c.num_hidden_layers;
  const int64_t NH = c.num_attention_heads, P = c.hidden_size_per_layer_input;
  auto emit = [&](std::string name, std::vector<int64_t> shape, int layer, R role) {
    fn(TensorSpec{std::move(name), std::move(shape), layer, role});
  };

  emit("embed_tokens.weight", {V, H}, -1, R::kEmbedding);
  if (c.has_ple()) {
    emit("embed_tokens_per_layer.weight", {c.vocab_size_per_layer_input, L * P}, -1, R::kEmbedding);
    emit("per_layer_model_projection.weight", {L * P, H}, -1, R::kMatrix);
    emit("per_layer_projection_norm.weight", {P}, -1, R::kNorm);
  }
  for (int l = 0; l < L; ++l) {
    const LayerInfo& li = c.layers[size_t(l)];
    const std::string p = "layers." + std::to_string(l) + ".";
    const int64_t D = li.head_dim, KVH = li.n_kv_heads;
    emit(p + "input_layernorm.weight", {H}, l, R::kNorm);
    emit(p + "self_attn.q_proj.weight", {NH * D, H}, l, R::kMatrix);
    emit(p + "self_attn.q_norm.weight", {D}, l, R::kNorm);
    if (li.owns_kv(l)) {  // KV-shared layers compute no K/V of their own
      emit(p + "self_attn.k_proj.weight", {KVH * D, H}, l, R::kMatrix);
      if (li.has_v) emit(p + "self_attn.v_proj.weight", {KVH * D, H}, l, R::kMatrix);
      emit(p + "self_attn.k_norm.weight", {D}, l, R::kNorm);
    }
    emit(p + "self_attn.o_proj.weight", {H, NH * D}, l, R::kMatrix);
    emit(p + "post_attention_layernorm.weight", {H}, l, R::kNorm);
    emit(p + "pre_feedforward_layernorm.weight", {H}, l, R::kNorm);
    emit(p + "mlp.gate_proj.weight", {li.ffn_dim, H}, l, R::kMatrix);
    emit(p + "mlp.up_proj.weight", {li.ffn_dim, H}, l, R::kMatrix);
    emit(p + "mlp.down_proj.weight", {H, li.ffn_dim}, l, R::kMatrix);
    emit(p + "post_feedforward_layernorm.weight", {H}, l, R::kNorm);
    if (c.has_moe()) {
      const int64_t E = c.num_experts, I = c.moe_intermediate_size;
      emit(p + "router.proj.weight", {E, H}, l, R::kMatrix);
      emit(p + "router.scale", {H}, l, R::kRouterScale);
      emit(p + "router.per_expert_scale", {E}, l, R::kPerExpertScale);
      emit(p + "experts.gate_up_proj", {E, 2 * I, H}, l, R::kMatrix);  // gate rows, then up rows
      emit(p + "experts.down_proj", {E, H, I}, l, R::kMatrix);
      emit(p + "pre_feedforward_layernorm_2.weight", {H}, l, R::kNorm);
      emit(p + "post_feedforward_layernorm_1.weight", {H}, l, R::kNorm);
      emit(p + "post_feedforward_layernorm_2.weight", {H}, l, R::kNorm);
    }
    if (c.has_ple()) {
      emit(p + "per_layer_input_gate.weight", {P, H}, l, R::kMatrix);
      emit(p + "per_layer_projection.weight", {H, P}, l, R::kMatrix);
      emit(p + "post_per_layer_input_norm.weight", {H}, l, R::kNorm);
    }
    emit(p + "layer_scalar", {1}, l, R::kLayerScalar);
  }
  emit("norm.weight", {H}, -1, R::kNorm);
  if (!c.tie_word_embeddings) emit("lm_head.weight", {V, H}, -1, R::kEmbedding);
}

void ForEachVisionTensor(const ModelConfig& c, const std::function<void(const TensorSpec&)>& fn) {
  if (!c.mm.has_vision) return;
  using R = TensorRole;
  if (c.mm.vision_unified) {  // gemma4_unified: the raw-patch embedder (Gemma4UnifiedVisionEmbedder)
    const UnifiedVisionConfig& u = c.mm.unified_vision;
    const int64_t P = u.patch_values(), D = u.mm_embed_dim;
    const std::string e = "embed_vision.";
    auto emit = [&](std::string name, std::vector<int64_t> shape, R role) {
      fn(TensorSpec{std::move(name), std::move(shape), -1, role});
    };
    emit(e + "patch_ln1.weight", {P}, R::kVisionVector);
    emit(e + "patch_ln1.bias", {P}, R::kVisionVector);
    emit(e + "patch_dense.weight", {D, P}, R::kMatrix);
    emit(e + "patch_dense.bias", {D}, R::kVisionVector);
    emit(e + "patch_ln2.weight", {D}, R::kVisionVector);
    emit(e + "patch_ln2.bias", {D}, R::kVisionVector);
    emit(e + "pos_embedding", {u.mm_posemb_size, 2, D}, R::kEmbedding);
    emit(e + "pos_norm.weight", {D}, R::kVisionVector);
    emit(e + "pos_norm.bias", {D}, R::kVisionVector);
    emit(e + "multimodal_embedder.embedding_projection.weight", {c.hidden_size, D}, R::kMatrix);
    return;
  }
  const VisionConfig& v = c.mm.vision;
  const int64_t Hv = v.hidden_size, Iv = v.intermediate_size, D = v.head_dim;
  const int64_t NH = v.num_attention_heads, KVH = v.num_key_value_heads;
  auto emit = [&](std::string name, std::vector<int64_t> shape, int layer, R role) {
    fn(TensorSpec{std::move(name), std::move(shape), layer, role});
  };
  // A clippable linear: its weight [out, in] and, with use_clipped_linears, four f32 scalars.
  auto linear = [&](const std::string& p, int64_t out, int64_t in, int layer) {
    emit(p + ".linear.weight", {out, in}, layer, R::kMatrix);
    if (!v.use_clipped_linears) return;
    for (const char* b : {".input_min", ".input_max", ".output_min", ".output_max"})
      emit(p + b, {}, layer, R::kClipBound);
  };
  const std::string t = "vision_tower.";
  emit(t + "patch_embedder.input_proj.weight", {Hv, v.patch_values()}, -1, R::kMatrix);
  emit(t + "patch_embedder.position_embedding_table", {2, v.position_embedding_size, Hv}, -1, R::kEmbedding);
  for (int l = 0; l < v.num_hidden_layers; ++l) {
    const std::string p = t + "encoder.layers." + std::to_string(l) + ".";
    emit(p + "input_layernorm.weight", {Hv}, l, R::kNorm);
    linear(p + "self_attn.q_proj", NH * D, Hv, l);
    linear(p + "self_attn.k_proj", KVH * D, Hv, l);
    linear(p + "self_attn.v_proj", KVH * D, Hv, l);
    linear(p + "self_attn.o_proj", Hv, NH * D, l);
    emit(p + "self_attn.q_norm.weight", {D}, l, R::kNorm);
    emit(p + "self_attn.k_norm.weight", {D}, l, R::kNorm);
    emit(p + "post_attention_layernorm.weight", {Hv}, l, R::kNorm);
    emit(p + "pre_feedforward_layernorm.weight", {Hv}, l, R::kNorm);
    linear(p + "mlp.gate_proj", Iv, Hv, l);
    linear(p + "mlp.up_proj", Iv, Hv, l);
    linear(p + "mlp.down_proj", Hv, Iv, l);
    emit(p + "post_feedforward_layernorm.weight", {Hv}, l, R::kNorm);
  }
  if (v.standardize) {
    emit(t + "std_bias", {Hv}, -1, R::kVisionVector);
    emit(t + "std_scale", {Hv}, -1, R::kVisionVector);
  }
  emit("embed_vision.embedding_projection.weight", {c.hidden_size, Hv}, -1, R::kMatrix);
}

void ForEachAudioTensor(const ModelConfig& c, const std::function<void(const TensorSpec&)>& fn) {
  if (!c.mm.has_audio) return;
  using R = TensorRole;
  if (c.mm.audio_unified) {  // gemma4_unified: raw frames, one projection (no tower)
    fn(TensorSpec{"embed_audio.embedding_projection.weight",
                  {c.hidden_size, c.mm.unified_audio.audio_embed_dim},
                  -1,
                  R::kMatrix});
    return;
  }
  const AudioConfig& a = c.mm.audio;
  const int64_t Ha = a.hidden_size, C0 = a.subsampling_channels0, C1 = a.subsampling_channels1;
  auto emit = [&](std::string name, std::vector<int64_t> shape, int layer, R role) {
    fn(TensorSpec{std::move(name), std::move(shape), layer, role});
  };
  auto linear = [&](const std::string& p, int64_t out, int64_t in, int layer) {
    emit(p + ".linear.weight", {out, in}, layer, R::kMatrix);
    if (!a.use_clipped_linears) return;
    for (const char* b : {".input_min", ".input_max", ".output_min", ".output_max"})
      emit(p + b, {}, layer, R::kClipBound);
  };
  const std::string t = "audio_tower.";
  const std::string s = t + "subsample_conv_projection.";
  emit(s + "layer0.conv.weight", {C0, 1, 3, 3}, -1, R::kAudioVector);
  emit(s + "layer0.norm.weight", {C0}, -1, R::kNorm);
  emit(s + "layer1.conv.weight", {C1, C0, 3, 3}, -1, R::kAudioVector);
  emit(s + "layer1.norm.weight", {C1}, -1, R::kNorm);
  emit(s + "input_proj_linear.weight", {Ha, a.subsampled_width()}, -1, R::kMatrix);
  for (int l = 0; l < a.num_hidden_layers; ++l) {
    const std::string p = t + "layers." + std::to_string(l) + ".";
    for (const char* ff : {"feed_forward1.", "feed_forward2."}) {
      linear(p + ff + "ffw_layer_1", 4 * Ha, Ha, l);
      linear(p + ff + "ffw_layer_2", Ha, 4 * Ha, l);
      emit(p + ff + "pre_layer_norm.weight", {Ha}, l, R::kNorm);
      emit(p + ff + "post_layer_norm.weight", {Ha}, l, R::kNorm);
    }
    linear(p + "self_attn.q_proj", Ha, Ha, l);
    linear(p + "self_attn.k_proj", Ha, Ha, l);
    linear(p + "self_attn.v_proj", Ha, Ha, l);
    linear(p + "self_attn.post", Ha, Ha, l);
    emit(p + "self_attn.relative_k_proj.weight", {Ha, Ha}, l, R::kMatrix);
    emit(p + "self_attn.per_dim_scale", {a.head_dim()}, l, R::kAudioVector);
    linear(p + "lconv1d.linear_start", 2 * Ha, Ha, l);
    linear(p + "lconv1d.linear_end", Ha, Ha, l);
    emit(p + "lconv1d.depthwise_conv1d.weight", {Ha, 1, a.conv_kernel_size}, l, R::kAudioVector);
    emit(p + "lconv1d.pre_layer_norm.weight", {Ha}, l, R::kNorm);
    emit(p + "lconv1d.conv_norm.weight", {Ha}, l, R::kNorm);
    emit(p + "norm_pre_attn.weight", {Ha}, l, R::kNorm);
    emit(p + "norm_post_attn.weight", {Ha}, l, R::kNorm);
    emit(p + "norm_out.weight", {Ha}, l, R::kNorm);
  }
  emit(t + "output_proj.weight", {a.output_proj_dims, Ha}, -1, R::kMatrix);
  emit(t + "output_proj.bias", {a.output_proj_dims}, -1, R::kAudioVector);
  emit("embed_audio.embedding_projection.weight", {c.hidden_size, a.output_proj_dims}, -1, R::kMatrix);
}

namespace {

// Present, of the listed shape, and a float dtype; else vkg::Error naming the tensor.
void CheckOne(const TensorSpec& spec, const WeightsFile& weights) {
  const TensorInfo* t = weights.Find(spec.name);
  if (!t) {
    throw Error(weights.source_name() + ": missing tensor " + spec.name + " (expected shape " +
                ShapeString(spec.shape) + ")");
  }
  if (t->shape != spec.shape) {
    throw Error(t->file + ": tensor " + spec.name + " has shape " + ShapeString(t->shape) + ", expected " +
                ShapeString(spec.shape));
  }
  if (!t->is_float) {
    throw Error(t->file + ": tensor " + spec.name + " has dtype " + t->dtype_name + ", expected BF16, F16 or F32");
  }
}

}  // namespace

void CheckTensors(const ModelConfig& config, const WeightsFile& weights) {
  ForEachTensor(config, [&](const TensorSpec& spec) { CheckOne(spec, weights); });
}

void CheckVisionTensors(const ModelConfig& config, const WeightsFile& weights) {
  ForEachVisionTensor(config, [&](const TensorSpec& spec) { CheckOne(spec, weights); });
}

void CheckAudioTensors(const ModelConfig& config, const WeightsFile& weights) {
  ForEachAudioTensor(config, [&](const TensorSpec& spec) { CheckOne(spec, weights); });
}

bool InComputeFormat(const TensorSpec& spec) {
  if (spec.role != TensorRole::kMatrix && spec.role != TensorRole::kEmbedding) return false;
  return spec.name != "embed_tokens_per_layer.weight" && spec.name.find("router.proj") == std::string::npos;
}

}  // namespace vkg
