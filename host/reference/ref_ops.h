// CPU reference of every GPU op (layer: host/reference). Plain loops, float32, no SIMD tricks.
// Product code: tests compare GPU ops and the whole model against it, and `--device cpu` runs it.
// Callers feed it inputs already rounded through the device's storage types (dtype.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace vkg::ref {

// Y[m][n] = sum_k X[m][k] * W[n][k].  W: [N][K] row-major (PyTorch [out, in]); X: [M][K]; Y: [M][N].
void MatMul(const float* W, const float* X, float* Y, int M, int N, int K);

// Gemma 4 RMSNorm over the last dim: y = x * (mean(x^2) + eps)^-0.5 * w (w used as stored; w may be
// null for the weightless form). x, y: [rows][dim]; w: [dim]. Per-head norms pass rows = T * heads.
void RmsNorm(const float* x, const float* w, float* y, int rows, int dim, float eps);

// RoPE inverse frequencies in float32 as HF computes them: inv_freq[i] = 1 / theta^(2i / head_dim)
// for i < rotary_pairs, 0 for rotary_pairs <= i < head_dim / 2 (those dims pass through).
// Sliding layers: rotary_pairs = head_dim / 2 (theta 1e4). Full layers ("proportional",
// partial_rotary_factor 0.25, head_dim 512): rotary_pairs = 64 (theta 1e6).
std::vector<float> RopeInvFreq(int head_dim, float theta, int rotary_pairs);

// NeoX / rotate_half RoPE in place: dim i pairs with i + head_dim/2, angle = float(pos) * inv_freq[i].
// x: [n_tokens][n_heads][head_dim]; positions: [n_tokens]; inv_freq: [head_dim / 2].
void Rope(float* x, int n_tokens, int n_heads, int head_dim, const int32_t* positions, const float* inv_freq);

// Gemma 4 vision 2D RoPE in place: the first half of each head rotates by the patch's x, the second
// by its y, each half as NeoX RoPE of head_dim / 2 (dim i pairs with i + head_dim / 4).
// x: [n_tokens][n_heads][head_dim]; positions_xy: [n_tokens][2] (x, y);
// inv_freq: [head_dim / 4] = RopeInvFreq(head_dim / 2, theta, head_dim / 4).
void Rope2D(float* x, int n_tokens, int n_heads, int head_dim, const int32_t* positions_xy, const float* inv_freq);

// Row softmax in place. x: [rows][cols].
void Softmax(float* x, int rows, int cols);

// out = gelu_tanh(gate) * up, elementwise over n values.
void GeluMul(const float* gate, const float* up, float* out, size_t n);
float GeluTanh(float u);

// out[t] = table[ids[t]] * scale. table: [vocab][dim]; out: [n][dim].
void Embed(const float* table, int vocab, int dim, const int32_t* ids, int n, float scale, float* out);

// x = cap * tanh(x / cap) in place over n values.
void Softcap(float* x, size_t n, float cap);

// out = (a + b) * scale over n values; b may be null (out = a * scale). out may alias a or b.
void AddScaled(const float* a, const float* b, float* out, size_t n, float scale);

// Expert routing per row: the k largest logits (ties: lower id first), their softmax (equal to
// softmax over all experts, top-k, renormalise), each times per_expert_scale[id] if given.
// logits: [rows][n_experts]; ids, weights: [rows][k].
void TopKSoftmax(const float* logits, int rows, int n_experts, int k, const float* per_expert_scale, int32_t* ids,
                 float* weights);

// Attention of T query tokens at positions start_pos .. start_pos+T-1 over a KV cache.
// q, out: [T][n_heads][head_dim]; k_cache, v_cache: [cache_len][n_kv_heads][head_dim], the key of
// position j in slot j % cache_len (a ring when cache_len is shorter than the context).
// Query at position p sees keys j <= p, and j > p - window when window > 0 (sliding layers: exactly
// `window` keys including itself). With last_key, query token t sees keys up to last_key[t] (>= p)
// instead of p: image tokens attending in both directions within their image (docs/model.md §5.3),
// or every vision patch seeing every other (last_key = n - 1 for all). Query head h reads KV head h / (n_heads / n_kv_heads).
// scores = scale * q.k (Gemma 4: scale 1.0), softmax in float32, out = sum p * v.
struct AttentionShape {
  int tokens = 0;     // T: query tokens
  int start_pos = 0;  // position of query token 0
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  int cache_len = 0;  // slots of k_cache / v_cache
  int window = 0;     // 0: full causal; W: a sliding layer
  float scale = 1.f;
  const int32_t* last_key = nullptr;  // [T] last key position each query sees; nullptr: causal (p)
};
void Attention(const float* q, const float* k_cache, const float* v_cache, float* out, const AttentionShape& shape);

}  // namespace vkg::ref
