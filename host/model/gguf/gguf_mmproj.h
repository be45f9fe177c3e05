// llama.cpp's separate projector GGUF ("mmproj", general.architecture "clip") for Gemma 4 vision
// (clip.vision.projector_type "gemma4v"), as convert_hf_to_gguf.py's Gemma4VisionAudioModel writes
// it and tools/mtmd/clip.cpp reads it: the vision tower and its projection next to a text GGUF
// (layer: host/model, CPU only).
//
// Tensors (per-model name as in tensor_names.h -> mmproj name; N = tower layer; ne = GGUF order):
//   vision_tower.patch_embedder.input_proj.weight     v.patch_embd.weight  ne [ps, ps, 3, Hv]: a conv
//       kernel [Hv][channel][row][column]; ours is [Hv][row][column][channel] (HF's flattened
//       patch), so this one tensor is re-laid out on load (an owned copy, Hv x 768 values)
//   vision_tower.patch_embedder.position_embedding_table  v.position_embd.weight  ne [Hv, P, 2]
//   ...encoder.layers.N.input_layernorm.weight        v.blk.N.ln1.weight
//   ...self_attn.{q,k,v,o}_proj.linear.weight         v.blk.N.attn_{q,k,v,out}.weight
//   ...self_attn.{q,k,v,o}_proj.{input,output}_{min,max}  v.blk.N.attn_{q,k,v,out}.{input,output}_{min,max}
//       (ne [1]: the converter stores HF's 0-d bounds as 1-element tensors)
//   ...self_attn.q_norm.weight / k_norm.weight        v.blk.N.attn_q_norm.weight / attn_k_norm.weight
//   ...post_attention_layernorm.weight                v.blk.N.attn_post_norm.weight
//   ...pre_feedforward_layernorm.weight               v.blk.N.ln2.weight
//   ...post_feedforward_layernorm.weight              v.blk.N.ffn_post_norm.weight
//   ...mlp.{gate,up,down}_proj.linear.weight (+ bounds) v.blk.N.ffn_{gate,up,down}.weight
//   vision_tower.std_bias / std_scale                 v.std_bias / v.std_scale (standardize)
//   embed_vision.embedding_projection.weight          mm.input_projection.weight  ne [Hv, H]
//
// Metadata -> VisionConfig: clip.vision.embedding_length (Hv), feed_forward_length (Iv),
// block_count, attention.head_count, attention.head_count_kv (absent: = head_count),
// attention.head_dim (absent: attn_q_norm's length), patch_size, projector.scale_factor (pooling;
// absent: 3, as clip.cpp), attention.layer_norm_epsilon, projection_dim (must be the text model's
// hidden size). The position table's rows come from its shape; RoPE theta is 100 (clip.cpp fixes
// it); clipped linears and standardize are on when their tensors are present.
//
// What the mmproj does not say comes from the text GGUF: the image token ids are the vocabulary's
// "<|image|>" (one per soft token), "<|image>" (BOI) and "<image|>" (EOI); bidirectional image
// attention (HF's use_bidirectional_attention "vision") is on for models without per-layer
// embeddings, as llama.cpp decides it (the GGUF has no key for it; E2B/E4B have PLE and are causal).
#pragma once
#include <filesystem>
#include <memory>
#include <vector>

#include "host/model/config.h"
#include "host/model/safetensors.h"

namespace vkg {

class GgufFile;

struct GgufProjector {
  MultimodalConfig mm;
  std::vector<TensorInfo> tensors;         // every tensor ForEachVisionTensor lists, per-model names
  std::shared_ptr<const void> keep_alive;  // the mapping and the re-laid-out patch embedding
};

// The multimodal config of `text` (a text GGUF's config and metadata) with the tower of the mmproj
// at `path`: metadata only (cheap). Throws a one-line vkg::Error naming the file and the key.
MultimodalConfig GgufProjectorConfig(const std::filesystem::path& path, const ModelConfig& text,
                                     const GgufFile& text_meta);

// The config and every tensor, checked for presence, shape and a float type (F32, F16, BF16).
GgufProjector LoadGgufProjector(const std::filesystem::path& path, const ModelConfig& text, const GgufFile& text_meta);

}  // namespace vkg
