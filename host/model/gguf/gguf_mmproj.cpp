// llama.cpp's Gemma 4 vision projector GGUF -> MultimodalConfig and tower tensors (layer: host/model).
#include "host/model/gguf/gguf_mmproj.h"

#include <algorithm>
#include <cstring>
#include <regex>

#include "host/error.h"
#include "host/model/gguf/gguf_checkpoint.h"
#include "host/model/gguf/gguf_file.h"
#include "host/model/tensor_names.h"

namespace vkg {
namespace {

// Per-model suffix after "vision_tower.encoder.layers.N." -> the mmproj's after "v.blk.N.".
struct LayerName {
  const char* ours;
  const char* theirs;
};
constexpr LayerName kLayerNames[] = {
    {"input_layernorm.weight", "ln1.weight"},           {"self_attn.q_norm.weight", "attn_q_norm.weight"},
    {"self_attn.k_norm.weight", "attn_k_norm.weight"},  {"post_attention_layernorm.weight", "attn_post_norm.weight"},
    {"pre_feedforward_layernorm.weight", "ln2.weight"}, {"post_feedforward_layernorm.weight", "ffn_post_norm.weight"},
};
// Clippable linears: "<ours>.linear.weight" / "<ours>.input_min" ... -> "<theirs>.weight" / ".input_min".
constexpr LayerName kLinearNames[] = {
    {"self_attn.q_proj", "attn_q"},   {"self_attn.k_proj", "attn_k"}, {"self_attn.v_proj", "attn_v"},
    {"self_attn.o_proj", "attn_out"}, {"mlp.gate_proj", "ffn_gate"},  {"mlp.up_proj", "ffn_up"},
    {"mlp.down_proj", "ffn_down"},
};

const char kPatch[] = "v.patch_embd.weight";

// The mmproj name of a per-model vision tensor name (ForEachVisionTensor's).
std::string MmprojName(const std::string& ours) {
  if (ours == "vision_tower.patch_embedder.input_proj.weight") return kPatch;
  if (ours == "vision_tower.patch_embedder.position_embedding_table") return "v.position_embd.weight";
  if (ours == "vision_tower.std_bias") return "v.std_bias";
  if (ours == "vision_tower.std_scale") return "v.std_scale";
  if (ours == "embed_vision.embedding_projection.weight") return "mm.input_projection.weight";
  static const std::regex layer(R"(vision_tower\.encoder\.layers\.(\d+)\.(.+))");
  std::smatch m;
  if (std::regex_match(ours, m, layer)) {
    const std::string blk = "v.blk." + m[1].str() + ".", rest = m[2].str();
    for (const LayerName& n : kLayerNames) {
      if (rest == n.ours) return blk + n.theirs;
    }
    for (const LayerName& n : kLinearNames) {
      const std::string p = std::string(n.ours) + ".";
      if (rest.rfind(p, 0) != 0) continue;
      const std::string tail = rest.substr(p.size());
      return blk + n.theirs + "." + (tail == "linear.weight" ? std::string("weight") : tail);
    }
  }
  throw Error("mmproj: no GGUF name for tensor " + ours);
}

std::string Clip(const char* key) { return std::string("clip.vision.") + key; }

int PositiveInt(const GgufFile& f, const std::string& key) {
  const int64_t v = f.GetInt(key);
  if (v <= 0 || v > (1 << 24)) throw Error(f.name() + ": " + key + " is " + std::to_string(v) + ", expected > 0");
  return int(v);
}

// The id of `token` in the text model's vocabulary (tokenizer.ggml.tokens), or a one-line error.
int TokenId(const GgufFile& text, const std::string& token, int vocab_size) {
  const GgufValue* tokens = text.Find("tokenizer.ggml.tokens");
  if (!tokens || tokens->type != GgufType::kArray || tokens->elem != GgufType::kString) {
    throw Error(text.name() +
                ": no tokenizer.ggml.tokens: the image token ids of an --mmproj come from the "
                "text model's vocabulary");
  }
  const auto it = std::find(tokens->strings.begin(), tokens->strings.end(), token);
  if (it == tokens->strings.end()) {
    throw Error(text.name() + ": the vocabulary has no " + token + " token (not a Gemma 4 vision model's text GGUF?)");
  }
  const int id = int(it - tokens->strings.begin());
  if (id >= vocab_size) {
    throw Error(text.name() + ": token " + token + " has id " + std::to_string(id) + ", outside the " +
                std::to_string(vocab_size) + " rows of token_embd");
  }
  return id;
}

MultimodalConfig ReadConfig(const GgufFile& f, const ModelConfig& text, const GgufFile& text_meta) {
  const std::string arch = f.Find("general.architecture") ? f.GetString("general.architecture") : "";
  if (arch != "clip") {
    throw Error(f.name() + ": general.architecture is \"" + arch + "\", expected \"clip\" (an mmproj file)");
  }
  const std::string key = f.Find(Clip("projector_type")) ? Clip("projector_type") : "clip.projector_type";
  const std::string type = f.Find(key) ? f.GetString(key) : "";
  if (type == "gemma4uv") {
    throw Error(f.name() + ": projector type gemma4uv (Gemma 4 12B unified) is not supported yet");
  }
  if (type != "gemma4v") {
    throw Error(f.name() + ": projector type \"" + type + "\" is not Gemma 4 vision (expected gemma4v)");
  }
  if (text.unified) throw Error(f.name() + ": a gemma4v projector does not fit the unified (12B) text model");
  MultimodalConfig m;
  m.has_vision = true;
  VisionConfig& v = m.vision;
  v.hidden_size = PositiveInt(f, Clip("embedding_length"));
  v.intermediate_size = PositiveInt(f, Clip("feed_forward_length"));
  v.num_hidden_layers = PositiveInt(f, Clip("block_count"));
  v.num_attention_heads = PositiveInt(f, Clip("attention.head_count"));
  v.num_key_value_heads =
      f.Find(Clip("attention.head_count_kv")) ? PositiveInt(f, Clip("attention.head_count_kv")) : v.num_attention_heads;
  v.patch_size = PositiveInt(f, Clip("patch_size"));
  v.pooling_kernel_size = f.Find(Clip("projector.scale_factor")) ? PositiveInt(f, Clip("projector.scale_factor")) : 3;
  v.rms_norm_eps = float(f.GetFloat(Clip("attention.layer_norm_epsilon")));
  v.rope_theta = 100.f;
  if (f.Find(Clip("attention.head_dim"))) {
    v.head_dim = PositiveInt(f, Clip("attention.head_dim"));
  } else {
    const GgufTensor* qn = nullptr;
    for (const GgufTensor& t : f.tensors()) {
      if (t.name == "v.blk.0.attn_q_norm.weight") qn = &t;
    }
    if (!qn || qn->ne.size() != 1) throw Error(f.name() + ": missing tensor v.blk.0.attn_q_norm.weight");
    v.head_dim = int(qn->ne[0]);
  }
  const GgufTensor* pos = nullptr;
  bool clipped = false, standardize = false;
  for (const GgufTensor& t : f.tensors()) {
    if (t.name == "v.position_embd.weight") pos = &t;
    if (t.name == "v.blk.0.attn_q.input_min") clipped = true;
    if (t.name == "v.std_bias") standardize = true;
  }
  if (!pos || pos->ne.size() != 3) throw Error(f.name() + ": missing tensor v.position_embd.weight (ne [Hv, P, 2])");
  v.position_embedding_size = int(pos->ne[1]);
  v.use_clipped_linears = clipped;
  v.standardize = standardize;
  if (v.head_dim % 4) {
    throw Error(f.name() + ": head size " + std::to_string(v.head_dim) + " is not a multiple of 4 (2D RoPE)");
  }
  if (v.num_attention_heads % v.num_key_value_heads) {
    throw Error(f.name() + ": " + std::to_string(v.num_attention_heads) + " heads are not a multiple of " +
                std::to_string(v.num_key_value_heads) + " KV heads");
  }
  const int proj = PositiveInt(f, Clip("projection_dim"));
  if (proj != text.hidden_size) {
    throw Error(f.name() + ": clip.vision.projection_dim " + std::to_string(proj) +
                " does not match the text model's hidden size " + std::to_string(text.hidden_size) +
                " (a projector of another model?)");
  }
  m.image_token_id = TokenId(text_meta, "<|image|>", text.vocab_size);
  m.boi_token_id = TokenId(text_meta, "<|image>", text.vocab_size);
  m.eoi_token_id = TokenId(text_meta, "<image|>", text.vocab_size);
  m.bidirectional_vision = !text.has_ple();
  return m;
}

// A float tensor's element size (F32 4, F16/BF16 2), 0 otherwise.
size_t FloatBytes(GgmlType t) { return t == GgmlType::F32 ? 4 : (t == GgmlType::F16 || t == GgmlType::BF16) ? 2 : 0; }

// What the projector's tensors need kept: the mapping and the re-laid-out patch embedding.
struct ProjectorData {
  std::unique_ptr<GgufFile> file;
  std::vector<uint8_t> patch;
};

// v.patch_embd [Hv][3][ps][ps] -> [Hv][ps][ps][3] (HF's patch order: row, column, channel).
void RelayoutPatch(const GgufTensor& t, size_t esize, uint32_t ps, std::vector<uint8_t>& out) {
  const uint64_t hv = t.ne[3], per = uint64_t(3) * ps * ps;
  out.resize(size_t(hv * per * esize));
  for (uint64_t o = 0; o < hv; ++o) {
    for (uint32_t ch = 0; ch < 3; ++ch) {
      for (uint32_t r = 0; r < ps; ++r) {
        for (uint32_t c = 0; c < ps; ++c) {
          const uint64_t src = o * per + (uint64_t(ch) * ps + r) * ps + c;
          const uint64_t dst = o * per + (uint64_t(r) * ps + c) * 3 + ch;
          std::memcpy(&out[size_t(dst * esize)], t.data + src * esize, esize);
        }
      }
    }
  }
}

}  // namespace

MultimodalConfig GgufProjectorConfig(const std::filesystem::path& path, const ModelConfig& text,
                                     const GgufFile& text_meta) {
  return ReadConfig(*GgufFile::Open(path), text, text_meta);
}

GgufProjector LoadGgufProjector(const std::filesystem::path& path, const ModelConfig& text, const GgufFile& text_meta) {
  auto data = std::make_shared<ProjectorData>();
  data->file = GgufFile::Open(path);
  const GgufFile& f = *data->file;
  GgufProjector out;
  out.mm = ReadConfig(f, text, text_meta);
  ModelConfig with_tower = text;
  with_tower.mm = out.mm;
  const uint32_t ps = uint32_t(out.mm.vision.patch_size);
  ForEachVisionTensor(with_tower, [&](const TensorSpec& spec) {
    const std::string name = MmprojName(spec.name);
    const GgufTensor* t = nullptr;
    for (const GgufTensor& x : f.tensors()) {
      if (x.name == name) t = &x;
    }
    if (!t) throw Error(f.name() + ": missing tensor " + name);
    const GgmlTypeInfo* type = FindGgmlType(uint32_t(t->type));
    const std::string type_name = type ? type->name : std::to_string(uint32_t(t->type));
    const size_t esize = FloatBytes(t->type);
    if (!esize) {
      throw Error(f.name() + ": tensor " + name + " has type " + type_name +
                  ", expected F32, F16 or BF16 (quantized projectors are not supported yet)");
    }
    std::vector<int64_t> shape = t->Shape();
    TensorInfo info;
    info.data = t->data;
    info.size = size_t(t->bytes);
    if (name == kPatch) {
      // A conv kernel ne [ps, ps, 3, Hv] becomes the linear [Hv][ps * ps * 3].
      if (t->ne.size() != 4 || t->ne[0] != ps || t->ne[1] != ps || t->ne[2] != 3) {
        throw Error(f.name() + ": tensor " + name + " has shape " + ShapeString(shape) + ", expected ne [" +
                    std::to_string(ps) + ", " + std::to_string(ps) + ", 3, Hv]");
      }
      RelayoutPatch(*t, esize, ps, data->patch);
      shape = {int64_t(t->ne[3]), int64_t(3 * ps * ps)};
      info.data = data->patch.data();
    } else if (spec.shape.empty() && shape == std::vector<int64_t>{1}) {
      shape = {};  // a clip bound: HF's 0-d scalar as a 1-element tensor
    }
    if (shape != spec.shape) {
      throw Error(f.name() + ": tensor " + name + " has shape " + ShapeString(shape) + ", expected " +
                  ShapeString(spec.shape));
    }
    GgmlTypeSupported(t->type, &info.dtype);
    info.name = spec.name;
    info.file_name = name;
    info.dtype_name = type_name;
    info.is_float = true;
    info.quantized = false;
    info.shape = shape;
    info.file = f.name();
    out.tensors.push_back(std::move(info));
  });
  out.keep_alive = data;
  return out;
}

}  // namespace vkg
