// Options of vkg_make_checkpoint and the config.json they imply (layer: tools/make_checkpoint).
// Each variant mirrors the shape of a released Gemma 4 model at a tiny default size; every size
// can be overridden by a flag.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "host/formats/dtype.h"

namespace vkg::mkckpt {

struct Options {
  std::string out;                // output directory (required)
  std::string variant = "dense";  // dense (31B-like, k_eq_v) | ple (E2B) | e4b | moe (26B-A4B) | unified (12B)
  uint64_t seed = 1;
  int shards = 1;          // > 1: model-0000i-of-0000N.safetensors + model.safetensors.index.json
  bool text_only = false;  // flat gemma4_text config and "model." names (Gemma4ForCausalLM export)
  bool untied = false;     // write lm_head.weight and tie_word_embeddings: false
  bool force = false;      // overwrite an existing checkpoint in `out`
  // Storage dtype of every tensor, then of the tensors whose name contains a given string (the
  // last matching override wins): f32 / f16 checkpoints and mixed ones, as fine-tunes ship them.
  DType dtype = DType::BF16;
  std::vector<std::pair<std::string, DType>> dtype_overrides;

  // Sizes; -1 = the variant's default.
  int vocab = 256, hidden = 64, intermediate = 256, heads = 4, head_dim = 16, global_head_dim = 32;
  int layers = -1, kv_heads = -1, global_kv_heads = -1, full_every = -1, kv_shared = -1;
  int window = 8, ple_dim = 16, experts = 8, top_k = 2, moe_intermediate = 32, max_pos = 4096;
  float softcap = 30.f;  // <= 0: null (no final logit cap)
};

// Fills the -1 sizes from the variant; throws vkg::Error for an unknown variant.
void ApplyVariantDefaults(Options* o);

// The dtype tensor `name` is stored in.
DType TensorDType(const Options& o, const std::string& name);

// The whole config.json document: nested text_config as released (or flat for --text-only).
nlohmann::ordered_json MakeConfigJson(const Options& o);

}  // namespace vkg::mkckpt
