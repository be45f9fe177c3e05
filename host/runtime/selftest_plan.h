// The selftest's case list: the distinct operations of built-in shapes' forward passes, as pure
// data from their configs (layer: host/runtime; private to selftest.cpp and its tests).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "host/formats/dtype.h"
#include "host/model/config.h"

namespace vkg::selftest {

// A weight matrix product as forward.cpp records it.
struct ProductCase {
  enum class Kind {
    kPlain,         // MatMul (qkv, o_proj, down, ple_gate, ple_model_proj, head)
    kGeluPairs,     // decode gate|up: MatVecGeluPairs, else MatMul + GeluMulPairs (forward.cpp Mlp)
    kGeluMulInput,  // decode per-layer-input projection: MatVecGeluMul, else GeluMul + MatMul
  };
  Kind kind = Kind::kPlain;
  std::string matrix;  // what it is in the model ("qkv", "gate_up", "head", ...)
  DType dtype = DType::Q4_0;
  uint32_t n = 0, k = 0;  // the real [N][K]
  uint32_t n_run = 0;     // rows uploaded and run (n, or a sample of huge matrices)
  uint32_t m = 1;         // tokens (rows of x)
  bool decode = true;     // decode kernels (rows_as_decode when m > 1), else prefill
  float softcap = 0.f;    // the head's final_logit_softcapping
};

// Attention over a KV cache as forward.cpp records it: decode replayed (position from a buffer,
// splits planned for the context's end, the step's scratch) or a prefill chunk.
struct AttentionCase {
  uint32_t T = 1, start_pos = 0;
  uint32_t n_heads = 0, n_kv_heads = 0, head_dim = 0;
  uint32_t cache_len = 0, window = 0, context = 0;
  bool k_is_v = false;  // K=V layers: one cache bound as K and V
  bool full = false;
};

// A block end (ResidualRmsNorm) and a plain RmsNorm at [T][H].
struct NormCase {
  uint32_t rows = 1, dim = 0;
};

// A layer's fused attention inputs (PrepareAttentionInputs: q/k norms, RoPE, KV append) as
// forward.cpp's AttentionBlock records them: the layer's heads, head size, rotated pairs and theta,
// K=V (V from the raw K) and KV-shared layers (q only); decode with the position from a buffer.
struct AttentionInputsCase {
  uint32_t T = 1, start_pos = 0;
  uint32_t n_heads = 0, n_kv_heads = 0, head_dim = 0, cache_len = 0;  // n_kv_heads 0: KV-shared
  uint32_t rope_pairs = 0;
  float rope_theta = 0.f;
  bool k_is_v = false;
  bool position_buffer = false;
};

// A MoE layer's routed experts as forward.cpp's Experts records them: top-k softmax over the
// router's E logits (with the per-expert scale), the experts' [gate | up] product (x shared by a
// token's top_k slots) and their down product (one x row per slot). The router's own product is a
// products entry ("router", its stored bf16).
struct ExpertCase {
  DType dtype = DType::Q4_0;
  uint32_t n_experts = 0, top_k = 0, hidden = 0, inter = 0;  // E, K, H, I as configured
  uint32_t experts_run = 0;  // experts uploaded (E, or a sample of huge stacks): the ids route among them
  uint32_t tokens = 1;       // 1 (decode) or a few (a prompt chunk: the same kernels per slot)
};

// The token embedding gather (Embed, scaled) of [tokens] ids from the [vocab][H] table, rows
// sampled from huge tables; and the per-layer inputs' fused norm + combine (PleNormCombine) at
// [tokens][L * P] (dim = P, layers = L; models with per-layer embeddings).
struct EmbedCase {
  DType dtype = DType::Q4_0;
  uint32_t vocab = 0, vocab_run = 0, dim = 0, tokens = 1;
  float scale = 1.f;
};
struct PleCase {
  uint32_t tokens = 1, layers = 0, dim = 0;
};

struct Plan {
  struct Product {
    ProductCase c;
    std::vector<std::string> models;
  };
  struct Attention {
    AttentionCase c;
    std::vector<std::string> models;
  };
  struct Norm {
    NormCase c;
    std::vector<std::string> models;
  };
  template <typename C>
  struct Entry {
    C c;
    std::vector<std::string> models;
  };
  std::vector<Product> products;
  std::vector<Attention> attention;
  std::vector<Norm> norms;
  std::vector<Entry<AttentionInputsCase>> attention_inputs;
  std::vector<Entry<ExpertCase>> experts;
  std::vector<Entry<EmbedCase>> embeds;
  std::vector<Entry<PleCase>> ples;
};

struct PlanOptions {
  std::vector<DType> formats;
  bool quick = false;
  bool gpu_device = true;  // chunk sizes as Scheduler::DefaultBatch picks (512 GPUs, 64 CPU devices)
};

// Adds the distinct cases of one model (name, config) to the plan; equal cases of several models
// are one case naming them all.
void AddModel(Plan& plan, const std::string& name, const ModelConfig& config, const PlanOptions& options);

// Sample sizes (stated in the case names): rows of a matrix run on the device at most
// max(128, max_values / K) rounded down to 128; prefill chunks of kPrefillTokens tokens; KV context kContext.
struct Sizes {
  uint64_t max_values;      // weight values uploaded per matrix
  uint32_t prefill_tokens;  // rows of x in a prefill product, queries of a prefill attention
  uint32_t decode_batch;    // rows of a batched decode product (continuous batching)
  uint32_t context;         // KV positions of full layers
};
Sizes SizesFor(bool quick);

}  // namespace vkg::selftest
