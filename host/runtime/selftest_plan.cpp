// The selftest's case list from model configs (layer: host/runtime). Mirrors what forward.cpp
// records per layer (AttentionBlock, Mlp, PleBlock, PerLayerInputs, RecordHead) and what the
// scheduler sizes (KvCache::Slots for the rings, the replayed decode step's planned position).
#include "host/runtime/selftest_plan.h"

#include <algorithm>
#include <tuple>

#include "host/device/kv_cache.h"

namespace vkg::selftest {
namespace {

// Adds `name` to an existing equal case's models, or appends the case.
template <typename Entry, typename Case, typename Key>
void AddUnique(std::vector<Entry>& list, const Case& c, const std::string& name, Key key) {
  for (Entry& e : list) {
    if (key(e.c) == key(c)) {
      if (std::find(e.models.begin(), e.models.end(), name) == e.models.end()) e.models.push_back(name);
      return;
    }
  }
  list.push_back({c, {name}});
}

auto ProductKey(const ProductCase& c) {
  return std::make_tuple(int(c.kind), int(c.dtype), c.n, c.k, c.m, c.decode, c.softcap);
}
auto InputsKey(const AttentionInputsCase& c) {
  return std::make_tuple(c.T, c.start_pos, c.n_heads, c.n_kv_heads, c.head_dim, c.cache_len, c.rope_pairs, c.rope_theta,
                         c.k_is_v, c.position_buffer);
}
auto ExpertKey(const ExpertCase& c) {
  return std::make_tuple(int(c.dtype), c.n_experts, c.top_k, c.hidden, c.inter, c.experts_run, c.tokens);
}
auto EmbedKey(const EmbedCase& c) {
  return std::make_tuple(int(c.dtype), c.vocab, c.vocab_run, c.dim, c.tokens, c.scale);
}
auto PleKey(const PleCase& c) { return std::make_tuple(c.tokens, c.layers, c.dim); }
auto AttentionKey(const AttentionCase& c) {
  return std::make_tuple(c.T, c.start_pos, c.n_heads, c.n_kv_heads, c.head_dim, c.cache_len, c.window, c.context,
                         c.k_is_v);
}

}  // namespace

Sizes SizesFor(bool quick) {
  // Full runs: 16M weight values per matrix (E2B's products whole but its gate|up, the
  // 262144-row head as 10880 rows), 100-token prefill chunks (full and partial 32/64-token tiles),
  // 8 batched decode rows (kDecodeColumns), an 8192-position context (the default cap).
  // Quick (CI on lavapipe): 256K values, 20 tokens, 3 rows, 1024 positions.
  if (quick) return {uint64_t(1) << 18, 20, 3, 1024};
  return {uint64_t(16) << 20, 100, 8, 8192};
}

void AddModel(Plan& plan, const std::string& name, const ModelConfig& c, const PlanOptions& o) {
  const Sizes sz = SizesFor(o.quick);
  const uint32_t H = uint32_t(c.hidden_size), NH = uint32_t(c.num_attention_heads);
  auto product = [&](ProductCase::Kind kind, const std::string& matrix, uint32_t n, uint32_t k, float softcap = 0.f) {
    for (DType t : o.formats) {
      // Sampled rows in multiples of 128: each output row of a batched decode stays 256-byte
      // aligned (the bound offsets the engine's real widths always have), gate|up halves too.
      const uint64_t cap = std::max<uint64_t>(128, sz.max_values / k / 128 * 128);
      ProductCase pc{kind, matrix, t, n, k, uint32_t(std::min<uint64_t>(n, cap)), 1, true, softcap};
      AddUnique(plan.products, pc, name, ProductKey);  // decode, one token
      const bool head = matrix == "head";              // RecordHead: one token, or up to logit_rows (8) rows
      const bool router = matrix == "router";          // Experts: one sequence, no batched decode rows
      if (kind != ProductCase::Kind::kGeluMulInput && !head && !router) {
        pc.m = sz.decode_batch;  // decode rows of several sequences (continuous batching)
        AddUnique(plan.products, pc, name, ProductKey);
      }
      pc.kind = ProductCase::Kind::kPlain;  // prefill: the fusions are decode-only
      pc.decode = false;
      pc.m = head ? 8 : sz.prefill_tokens;
      AddUnique(plan.products, pc, name, ProductKey);
    }
  };
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const LayerInfo& li = c.layers[size_t(l)];
    const uint32_t D = uint32_t(li.head_dim), KVH = uint32_t(li.n_kv_heads);
    const bool owns = li.owns_kv(l);
    const uint32_t kv_rows = owns ? KVH * D : 0, v_rows = owns && li.has_v ? KVH * D : 0;
    product(ProductCase::Kind::kPlain, "qkv", NH * D + kv_rows + v_rows, H);
    product(ProductCase::Kind::kPlain, "o_proj", H, NH * D);
    product(ProductCase::Kind::kGeluPairs, "gate_up", 2 * uint32_t(li.ffn_dim), H);
    product(ProductCase::Kind::kPlain, "down", H, uint32_t(li.ffn_dim));
    if (c.has_ple()) {
      const uint32_t P = uint32_t(c.hidden_size_per_layer_input);
      product(ProductCase::Kind::kPlain, "ple_gate", P, H);
      product(ProductCase::Kind::kGeluMulInput, "ple_proj", H, P);
    }
  }
  if (c.has_ple()) {
    product(ProductCase::Kind::kPlain, "ple_model_proj", uint32_t(c.num_hidden_layers * c.hidden_size_per_layer_input),
            H);
  }
  product(ProductCase::Kind::kPlain, "head", uint32_t(c.vocab_size), H, c.final_logit_softcapping);

  // Attention per distinct layer type, at a context holding two windows: decode as the replayed
  // step (splits planned for the last position, run 5 positions before it: sliding rings wrapped),
  // prefill as a chunk starting 37 positions past the first window (a partial window, a wrapped ring).
  int max_window = 0;
  for (const LayerInfo& li : c.layers) max_window = std::max(max_window, li.window);
  const uint32_t context = std::max<uint32_t>(sz.context, 2 * uint32_t(max_window) + 2 * sz.prefill_tokens);
  const uint32_t batch = o.gpu_device ? 512 : 64;  // Scheduler::kGpuBatch / kCpuBatch: the ring size
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const LayerInfo& li = c.layers[size_t(l)];
    AttentionCase a;
    a.n_heads = NH;
    a.n_kv_heads = uint32_t(li.n_kv_heads);
    a.head_dim = uint32_t(li.head_dim);
    a.window = uint32_t(li.window);
    a.full = li.full;
    a.k_is_v = !li.has_v;
    a.context = context;
    a.cache_len = KvCache::Slots(li, context, batch);
    a.T = 1;
    a.start_pos = context - 5;
    AddUnique(plan.attention, a, name, AttentionKey);
    a.T = sz.prefill_tokens;
    a.start_pos = uint32_t(max_window) + 37;
    AddUnique(plan.attention, a, name, AttentionKey);
  }
  for (uint32_t rows : {1u, sz.prefill_tokens}) {
    AddUnique(plan.norms, NormCase{rows, H}, name, [](const NormCase& n) { return std::make_pair(n.rows, n.dim); });
  }

  // Attention inputs per distinct layer type: decode (position from a buffer, deep into the ring)
  // and a prompt chunk wrapping the ring as the attention cases do.
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const LayerInfo& li = c.layers[size_t(l)];
    AttentionInputsCase in;
    in.n_heads = NH;
    in.head_dim = uint32_t(li.head_dim);
    in.n_kv_heads = li.owns_kv(l) ? uint32_t(li.n_kv_heads) : 0;
    in.cache_len = in.n_kv_heads ? KvCache::Slots(li, context, batch) : 0;
    in.rope_pairs = uint32_t(li.rope_pairs);
    in.rope_theta = li.rope_theta;
    in.k_is_v = !li.has_v;
    in.T = 1;
    in.start_pos = context - 5;
    in.position_buffer = true;
    AddUnique(plan.attention_inputs, in, name, InputsKey);
    in.T = sz.prefill_tokens;
    in.start_pos = uint32_t(max_window) + 37;
    in.position_buffer = false;
    AddUnique(plan.attention_inputs, in, name, InputsKey);
  }

  // Routed experts: all of E where the stacks are small, else as many whole experts as half of
  // max_values allows (at least 2: repeated and distinct ids; 26B-A4B: 2 of 128, 8M values of
  // gate|up); one token and a 4-token chunk (the expert kernels run per slot, so more tokens add
  // time, not variants).
  if (c.has_moe()) {
    const uint32_t E = uint32_t(c.num_experts), K = uint32_t(c.top_k_experts), I = uint32_t(c.moe_intermediate_size);
    const uint64_t per_expert = uint64_t(2) * I * H;
    const uint32_t run = uint32_t(std::clamp<uint64_t>(sz.max_values / 2 / per_expert, 2, E));
    for (DType t : o.formats)
      for (uint32_t tokens : {1u, 4u}) AddUnique(plan.experts, ExpertCase{t, E, K, H, I, run, tokens}, name, ExpertKey);
    // The router: [E][H], kept in its stored type (bf16) by the upload (InComputeFormat).
    ProductCase pc{ProductCase::Kind::kPlain, "router", DType::BF16, E, H, E, 1, true, 0.f};
    AddUnique(plan.products, pc, name, ProductKey);
    pc.decode = false;
    pc.m = sz.prefill_tokens;
    AddUnique(plan.products, pc, name, ProductKey);
  }

  // The embedding gather (rows of huge tables sampled: at most max_values / 16 values, the ids
  // reaching the first, last and middle sampled rows) and the per-layer inputs' combine.
  const uint32_t vocab = uint32_t(c.vocab_size);
  const uint32_t vocab_run = uint32_t(std::clamp<uint64_t>(sz.max_values / 16 / H, 64, vocab));
  for (DType t : o.formats)
    for (uint32_t tokens : {1u, sz.prefill_tokens})
      AddUnique(plan.embeds, EmbedCase{t, vocab, vocab_run, H, tokens, c.embed_scale()}, name, EmbedKey);
  if (c.has_ple()) {
    for (uint32_t tokens : {1u, sz.prefill_tokens})
      AddUnique(plan.ples, PleCase{tokens, uint32_t(c.num_hidden_layers), uint32_t(c.hidden_size_per_layer_input)},
                name, PleKey);
  }
}

}  // namespace vkg::selftest
