// Checkpoint -> GGUF in the converter's conventions (layer: tools/make_checkpoint).
#include "tools/make_checkpoint/gguf_export.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "host/error.h"
#include "host/formats/ggml_blocks.h"
#include "host/model/gguf/gguf_names.h"
#include "host/model/gguf/gguf_writer.h"
#include "host/model/tensor_names.h"

namespace vkg::mkckpt {
namespace {

// gguf-py's TokenType values.
enum TokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kByte = 6 };

std::string Key(const char* k) { return std::string(kGgufArchitecture) + "." + k; }

void WriteHparams(const ModelConfig& c, GgufWriter& w) {
  const int L = c.num_hidden_layers;
  w.String("general.architecture", kGgufArchitecture).String("general.name", "vkgemma generated");
  w.U32(Key("context_length"), uint32_t(c.max_position_embeddings));
  w.U32(Key("embedding_length"), uint32_t(c.hidden_size));
  w.U32(Key("block_count"), uint32_t(L));
  if (c.use_double_wide_mlp) {  // per-layer widths, as the converter writes them
    std::vector<uint32_t> ffn;
    for (const LayerInfo& li : c.layers) ffn.push_back(uint32_t(li.ffn_dim));
    w.U32s(Key("feed_forward_length"), ffn);
  } else {
    w.U32(Key("feed_forward_length"), uint32_t(c.intermediate_size));
  }
  w.U32(Key("attention.head_count"), uint32_t(c.num_attention_heads));
  if (c.num_global_key_value_heads > 0) {
    std::vector<uint32_t> kv;
    for (const std::string& t : c.layer_types) {
      kv.push_back(uint32_t(t == "full_attention" ? c.num_global_key_value_heads : c.num_key_value_heads));
    }
    w.U32s(Key("attention.head_count_kv"), kv);
  } else {
    w.U32(Key("attention.head_count_kv"), uint32_t(c.num_key_value_heads));
  }
  w.F32(Key("attention.layer_norm_rms_epsilon"), c.rms_norm_eps);
  w.U32(Key("attention.key_length"), uint32_t(c.global_head_dim));
  w.U32(Key("attention.value_length"), uint32_t(c.global_head_dim));
  w.U32(Key("attention.key_length_swa"), uint32_t(c.head_dim));
  w.U32(Key("attention.value_length_swa"), uint32_t(c.head_dim));
  w.F32(Key("rope.freq_base"), c.rope_theta_full);
  w.F32(Key("rope.freq_base_swa"), c.rope_theta_sliding);
  w.U32(Key("rope.dimension_count"), uint32_t(c.global_head_dim));
  w.U32(Key("rope.dimension_count_swa"), uint32_t(float(c.head_dim) * c.partial_rotary_factor_sliding));
  w.U32(Key("attention.sliding_window"), uint32_t(c.sliding_window));
  std::vector<bool> swa;
  for (const std::string& t : c.layer_types) swa.push_back(t == "sliding_attention");
  w.Bools(Key("attention.sliding_window_pattern"), swa);
  w.U32(Key("attention.shared_kv_layers"), uint32_t(c.num_kv_shared_layers));
  w.U32(Key("embedding_length_per_layer_input"), uint32_t(c.has_ple() ? c.hidden_size_per_layer_input : 0));
  if (c.has_moe()) {
    w.U32(Key("expert_count"), uint32_t(c.num_experts));
    w.U32(Key("expert_used_count"), uint32_t(c.top_k_experts));
    w.U32(Key("expert_feed_forward_length"), uint32_t(c.moe_intermediate_size));
  }
  if (c.final_logit_softcapping > 0) w.F32(Key("final_logit_softcapping"), c.final_logit_softcapping);
}

// tokenizer.json (Gemma's BPE) -> tokenizer.ggml.*: one token per id, added tokens typed CONTROL
// (special) or USER_DEFINED, byte pieces BYTE, merges as "left right" strings.
void WriteTokenizer(const std::filesystem::path& path, const ModelConfig& c, GgufWriter& w) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  const nlohmann::json doc = nlohmann::json::parse(ss.str());
  const nlohmann::json& model = doc.at("model");
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  auto put = [&](size_t id, const std::string& piece, int32_t type) {
    if (id >= tokens.size()) {
      tokens.resize(id + 1);
      types.resize(id + 1, 0);
    }
    tokens[id] = piece;
    types[id] = type;
  };
  const std::string unk =
      model.value("unk_token", nlohmann::json()).is_string() ? model["unk_token"].get<std::string>() : "";
  for (const auto& [piece, id] : model.at("vocab").items()) {
    const bool byte = piece.size() == 6 && piece.rfind("<0x", 0) == 0 && piece.back() == '>';
    put(id.get<size_t>(), piece, piece == unk ? kUnknown : byte ? kByte : kNormal);
  }
  for (const nlohmann::json& t : doc.at("added_tokens")) {
    put(t.at("id").get<size_t>(), t.at("content").get<std::string>(),
        t.at("special").get<bool>() ? kControl : kUserDefined);
  }
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (types[i] == 0) throw Error(path.string() + ": no token has id " + std::to_string(i));
  }
  std::vector<std::string> merges;
  for (const nlohmann::json& m : model.at("merges")) {
    merges.push_back(m.is_string() ? m.get<std::string>() : m[0].get<std::string>() + " " + m[1].get<std::string>());
  }
  w.String("tokenizer.ggml.model", "gemma4").String("tokenizer.ggml.pre", "gemma4");
  w.Strings("tokenizer.ggml.tokens", tokens);
  w.F32s("tokenizer.ggml.scores", std::vector<float>(tokens.size(), 0.f));
  w.I32s("tokenizer.ggml.token_type", types);
  w.Strings("tokenizer.ggml.merges", merges);
  w.U32("tokenizer.ggml.bos_token_id", uint32_t(c.bos_token_id));
  w.U32("tokenizer.ggml.eos_token_id", uint32_t(c.eos_token_id));
  w.U32("tokenizer.ggml.padding_token_id", uint32_t(c.pad_token_id));
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (types[i] == kUnknown) w.U32("tokenizer.ggml.unknown_token_id", uint32_t(i));
  }
  w.Bool("tokenizer.ggml.add_bos_token", true).Bool("tokenizer.ggml.add_space_prefix", false);
}

// No tokenizer.json: a placeholder vocabulary that names only the image tokens (at config.json's
// ids), so that an mmproj finds them as in a real Gemma 4 GGUF.
void WriteImageVocabulary(const ModelConfig& c, GgufWriter& w) {
  std::vector<std::string> tokens;
  for (int i = 0; i < c.vocab_size; ++i) tokens.push_back("<unused" + std::to_string(i) + ">");
  const auto name = [&](int id, const char* piece) {
    if (id >= 0 && id < c.vocab_size) tokens[size_t(id)] = piece;
  };
  name(c.mm.boi_token_id, "<|image>");
  name(c.mm.image_token_id, "<|image|>");
  name(c.mm.eoi_token_id, "<image|>");
  w.String("tokenizer.ggml.model", "gemma4");
  w.Strings("tokenizer.ggml.tokens", tokens);
  w.I32s("tokenizer.ggml.token_type", std::vector<int32_t>(tokens.size(), kControl));
}

std::vector<uint8_t> FloatBytes(const std::vector<float>& v, GgmlType t) {
  std::vector<uint8_t> out;
  for (float x : v) {
    if (t == GgmlType::F32) {
      const auto* b = reinterpret_cast<const uint8_t*>(&x);
      out.insert(out.end(), b, b + 4);
    } else {
      const uint16_t h = t == GgmlType::F16 ? FloatToHalf(x) : FloatToBf16(x);
      out.push_back(uint8_t(h));
      out.push_back(uint8_t(h >> 8));
    }
  }
  return out;
}

GgmlType GgmlTypeOf(DType t) {
  switch (t) {
    case DType::Q8_0: return GgmlType::Q8_0;
    case DType::Q4_0: return GgmlType::Q4_0;
    case DType::Q4_K: return GgmlType::Q4_K;
    case DType::Q5_K: return GgmlType::Q5_K;
    case DType::Q6_K: return GgmlType::Q6_K;
    case DType::Q4_1: return GgmlType::Q4_1;
    case DType::Q5_0: return GgmlType::Q5_0;
    case DType::Q5_1: return GgmlType::Q5_1;
    case DType::Q2_K: return GgmlType::Q2_K;
    case DType::Q3_K: return GgmlType::Q3_K;
    default: throw Error("GgmlTypeOf: not a block-quantized type");
  }
}

// The tensors a "_M" K-quant mix stores in Q6_K: the token embedding (also the tied head), and
// attn_v and ffn_down of the even layers.
bool MoreBits(const std::string& name) {
  if (name == "embed_tokens.weight") return true;
  const bool v = name.find("self_attn.v_proj") != std::string::npos,
             down = name.find("mlp.down_proj") != std::string::npos;
  if (!v && !down) return false;
  const size_t dot = name.find('.');  // "layers.N...."
  return name.rfind("layers.", 0) == 0 && std::stoi(name.substr(dot + 1)) % 2 == 0;
}

}  // namespace

void WriteGguf(const Checkpoint& ckpt, const GgufExportOptions& o) {
  const ModelConfig& c = ckpt.config();
  GgufWriter w;
  WriteHparams(c, w);
  if (!o.tokenizer_json.empty()) {
    WriteTokenizer(o.tokenizer_json, c, w);
  } else if (c.mm.has_vision) {
    WriteImageVocabulary(c, w);
  }
  if (!o.chat_template.empty()) w.String("tokenizer.chat_template", o.chat_template);

  ForEachTensor(c, [&](const TensorSpec& spec) {
    const std::vector<float> values = ckpt.Float32(spec.name);
    const bool matrix = spec.role == TensorRole::kMatrix || spec.role == TensorRole::kEmbedding;
    std::vector<uint64_t> ne(spec.shape.rbegin(), spec.shape.rend());
    GgmlType type = GgmlType::F32;
    std::vector<uint8_t> bytes;
    DType qtype = o.type;
    if (IsKQuant(qtype) && o.k_mix && MoreBits(spec.name)) qtype = DType::Q6_K;
    if (IsGgmlBlock(qtype) && ne[0] % BlockValues(qtype) != 0) qtype = DType::Q8_0;  // not whole (super-)blocks
    if (matrix && IsQuantized(qtype) && ne[0] % kQuantBlock == 0) {
      type = GgmlTypeOf(qtype);
      bytes = EncodeGgmlBlocks(qtype, values.data(), values.size());
    } else {
      if (matrix && o.type == DType::F16) type = GgmlType::F16;
      if (matrix && o.type == DType::BF16) type = GgmlType::BF16;
      bytes = FloatBytes(values, type);
    }
    w.Tensor(GgufTensorName(spec.name), type, ne, bytes);
  });
  // Proportional RoPE of the full layers as ggml expresses it (gguf_names.h).
  const int half = c.global_head_dim / 2;
  int rotated = 0;
  for (const LayerInfo& li : c.layers) {
    if (li.full) rotated = li.rope_pairs;
  }
  std::vector<float> freqs(size_t(half), 1e30f);
  for (int i = 0; i < rotated; ++i) freqs[size_t(i)] = 1.f;
  w.Tensor("rope_freqs.weight", GgmlType::F32, {uint64_t(half)}, FloatBytes(freqs, GgmlType::F32));
  w.Write(o.out);
}

namespace {

// Our per-model vision tensor name -> the mmproj's (the loader's table, gguf_mmproj.h).
std::string MmprojTensorName(const std::string& ours) {
  if (ours == "vision_tower.patch_embedder.input_proj.weight") return "v.patch_embd.weight";
  if (ours == "vision_tower.patch_embedder.position_embedding_table") return "v.position_embd.weight";
  if (ours == "vision_tower.std_bias") return "v.std_bias";
  if (ours == "vision_tower.std_scale") return "v.std_scale";
  if (ours == "embed_vision.embedding_projection.weight") return "mm.input_projection.weight";
  const std::string pre = "vision_tower.encoder.layers.";
  const size_t dot = ours.find('.', pre.size());
  const std::string blk = "v.blk." + ours.substr(pre.size(), dot - pre.size()) + ".", rest = ours.substr(dot + 1);
  static const std::pair<const char*, const char*> kNames[] = {
      {"input_layernorm.weight", "ln1.weight"},
      {"self_attn.q_norm.weight", "attn_q_norm.weight"},
      {"self_attn.k_norm.weight", "attn_k_norm.weight"},
      {"post_attention_layernorm.weight", "attn_post_norm.weight"},
      {"pre_feedforward_layernorm.weight", "ln2.weight"},
      {"post_feedforward_layernorm.weight", "ffn_post_norm.weight"},
      {"self_attn.q_proj.", "attn_q."},
      {"self_attn.k_proj.", "attn_k."},
      {"self_attn.v_proj.", "attn_v."},
      {"self_attn.o_proj.", "attn_out."},
      {"mlp.gate_proj.", "ffn_gate."},
      {"mlp.up_proj.", "ffn_up."},
      {"mlp.down_proj.", "ffn_down."},
  };
  for (const auto& [a, b] : kNames) {
    const std::string p = a;
    if (p.back() == '.' ? rest.rfind(p, 0) == 0 : rest == p) {
      std::string tail = p.back() == '.' ? rest.substr(p.size()) : "";
      if (tail == "linear.weight") tail = "weight";
      return blk + b + tail;
    }
  }
  throw Error("WriteMmproj: no mmproj name for " + ours);
}

}  // namespace

void WriteMmproj(const Checkpoint& ckpt, const std::filesystem::path& out, DType type) {
  const ModelConfig& c = ckpt.config();
  if (!c.mm.has_vision) throw Error(ckpt.dir().string() + ": no vision tower to write as an mmproj");
  if (c.mm.vision_unified) {
    throw Error(ckpt.dir().string() +
                ": gemma4_unified has no vision tower (its raw-patch embedder has no mmproj form)");
  }
  if (type != DType::F32 && type != DType::F16 && type != DType::BF16) {
    throw Error("an mmproj is written in f32, f16 or bf16");
  }
  const VisionConfig& v = c.mm.vision;
  GgufWriter w;
  w.String("general.architecture", "clip").String("general.type", "mmproj");
  w.String("general.name", "vkgemma generated");
  w.Bool("clip.has_vision_encoder", true);
  w.U32("clip.vision.projection_dim", uint32_t(c.hidden_size));
  w.U32("clip.vision.image_size", 224);  // unused by Gemma 4; the converter writes it too
  w.U32("clip.vision.patch_size", uint32_t(v.patch_size));
  w.U32("clip.vision.embedding_length", uint32_t(v.hidden_size));
  w.U32("clip.vision.feed_forward_length", uint32_t(v.intermediate_size));
  w.U32("clip.vision.block_count", uint32_t(v.num_hidden_layers));
  w.U32("clip.vision.attention.head_count", uint32_t(v.num_attention_heads));
  if (v.num_key_value_heads != v.num_attention_heads) {
    w.U32("clip.vision.attention.head_count_kv", uint32_t(v.num_key_value_heads));
  }
  if (v.head_dim * v.num_attention_heads != v.hidden_size)
    w.U32("clip.vision.attention.head_dim", uint32_t(v.head_dim));
  w.F32s("clip.vision.image_mean", {0.f, 0.f, 0.f}).F32s("clip.vision.image_std", {1.f, 1.f, 1.f});
  w.String("clip.vision.projector_type", "gemma4v");
  w.F32("clip.vision.attention.layer_norm_epsilon", v.rms_norm_eps);
  if (v.pooling_kernel_size != 3) w.U32("clip.vision.projector.scale_factor", uint32_t(v.pooling_kernel_size));
  const GgmlType mtype = type == DType::F16 ? GgmlType::F16 : type == DType::BF16 ? GgmlType::BF16 : GgmlType::F32;
  const uint32_t ps = uint32_t(v.patch_size);
  ForEachVisionTensor(c, [&](const TensorSpec& spec) {
    std::vector<float> values = ckpt.Float32(spec.name);
    std::vector<uint64_t> ne(spec.shape.rbegin(), spec.shape.rend());
    if (ne.empty()) ne = {1};  // HF's 0-d clip bounds as 1-element tensors
    const std::string name = MmprojTensorName(spec.name);
    GgmlType t = GgmlType::F32;
    if (spec.role == TensorRole::kMatrix) t = mtype;
    if (name == "v.patch_embd.weight") {
      // [Hv][row][column][channel] -> the conv kernel [Hv][channel][row][column].
      const size_t hv = size_t(spec.shape[0]), per = size_t(3) * ps * ps;
      std::vector<float> conv(values.size());
      for (size_t o = 0; o < hv; ++o)
        for (uint32_t ch = 0; ch < 3; ++ch)
          for (uint32_t r = 0; r < ps; ++r)
            for (uint32_t col = 0; col < ps; ++col)
              conv[o * per + (size_t(ch) * ps + r) * ps + col] = values[o * per + (size_t(r) * ps + col) * 3 + ch];
      values = std::move(conv);
      ne = {ps, ps, 3, uint64_t(hv)};
    }
    w.Tensor(name, t, ne, FloatBytes(values, t));
  });
  w.Write(out);
}

}  // namespace vkg::mkckpt
