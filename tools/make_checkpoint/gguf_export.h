// Writes a checkpoint as a GGUF file in llama.cpp's Gemma 4 conventions (architecture "gemma4":
// host/model/gguf/gguf_names.h, gguf_config.h), with the tokenizer of a tokenizer.json and a chat
// template as convert_hf_to_gguf.py stores them (layer: tools/make_checkpoint). Tests use it to
// get the same model as safetensors and as GGUF.
#pragma once
#include <filesystem>
#include <string>

#include "host/formats/dtype.h"
#include "host/model/checkpoint.h"

namespace vkg::mkckpt {

struct GgufExportOptions {
  std::filesystem::path out;  // the .gguf file
  // Type of the linear weights and embedding tables (the converter's --outtype). f32/f16/bf16 are
  // exact conversions of the checkpoint's values; q8_0 / q4_0 quantize each row (ggml's rounding,
  // ggml's block layout). Norms, scalars and router scales stay F32, as the converter keeps 1-D
  // tensors.
  // q4_k / q5_k / q6_k: K-quant super-blocks (kquant_blocks.h's quantizer) for every matrix whose
  // rows are whole super-blocks (ne0 % 256 == 0), q8_0 for the others (llama.cpp also falls back
  // where rows are not whole super-blocks). q4_1 / q5_0 / q5_1 / q2_k / q3_k: ggml_small_blocks.h's
  // quantizer, the same fallback where rows are not whole (super-)blocks.
  DType type = DType::F32;
  // With type q4_k or q5_k: a llama.cpp "_M" mix: the token embedding, attn_v and ffn_down of
  // every other layer (from layer 0) in Q6_K, as Q4_K_M / Q5_K_M give more bits to those.
  bool k_mix = false;
  // empty: no tokenizer.ggml.* keys, except for a checkpoint with a vision tower, which gets a
  // placeholder vocabulary ("<unusedN>") naming its image tokens as Gemma 4's does ("<|image>",
  // "<|image|>", "<image|>"): an --mmproj finds its ids there.
  std::filesystem::path tokenizer_json;
  std::string chat_template;  // empty: no tokenizer.chat_template
};

// Throws vkg::Error.
void WriteGguf(const Checkpoint& ckpt, const GgufExportOptions& o);

// The checkpoint's vision tower as llama.cpp's projector GGUF (general.architecture "clip",
// projector gemma4v; host/model/gguf/gguf_mmproj.h has the layout): matrices in `type` (f32, f16
// or bf16), norms, bounds and the position table f32, as convert_hf_to_gguf.py writes them.
void WriteMmproj(const Checkpoint& ckpt, const std::filesystem::path& out, DType type);

}  // namespace vkg::mkckpt
