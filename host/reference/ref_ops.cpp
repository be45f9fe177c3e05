// CPU reference ops (layer: host/reference). Deliberately naive: clarity over speed.
#include "host/reference/ref_ops.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace vkg::ref {

void MatMul(const float* W, const float* X, float* Y, int M, int N, int K) {
  for (int m = 0; m < M; ++m) {
    for (int n = 0; n < N; ++n) {
      double acc = 0.0;  // double: the reference must not add its own rounding noise
      for (int k = 0; k < K; ++k) acc += double(X[size_t(m) * K + k]) * W[size_t(n) * K + k];
      Y[size_t(m) * N + n] = float(acc);
    }
  }
}

void RmsNorm(const float* x, const float* w, float* y, int rows, int dim, float eps) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + size_t(r) * dim;
    float* yr = y + size_t(r) * dim;
    double ss = 0.0;
    for (int i = 0; i < dim; ++i) ss += double(xr[i]) * xr[i];
    const float inv = float(1.0 / std::sqrt(ss / dim + eps));
    for (int i = 0; i < dim; ++i) yr[i] = xr[i] * inv * (w ? w[i] : 1.f);
  }
}

std::vector<float> RopeInvFreq(int head_dim, float theta, int rotary_pairs) {
  std::vector<float> f(size_t(head_dim / 2), 0.f);
  for (int i = 0; i < rotary_pairs && i < head_dim / 2; ++i) {
    // HF: 1.0 / base ** (arange(0, 2*pairs, 2).float() / head_dim), all in float32.
    const float expo = float(2 * i) / float(head_dim);
    f[size_t(i)] = 1.f / std::pow(theta, expo);
  }
  return f;
}

void Rope(float* x, int n_tokens, int n_heads, int head_dim, const int32_t* positions, const float* inv_freq) {
  const int half = head_dim / 2;
  for (int t = 0; t < n_tokens; ++t) {
    for (int h = 0; h < n_heads; ++h) {
      float* v = x + (size_t(t) * n_heads + h) * head_dim;
      for (int i = 0; i < half; ++i) {
        const float angle = float(positions[t]) * inv_freq[i];  // float32 product, as HF
        const float c = float(std::cos(double(angle)));
        const float s = float(std::sin(double(angle)));
        const float a = v[i], b = v[i + half];
        v[i] = a * c - b * s;
        v[i + half] = b * c + a * s;
      }
    }
  }
}

void Rope2D(float* x, int n_tokens, int n_heads, int head_dim, const int32_t* positions_xy, const float* inv_freq) {
  const int part = head_dim / 2, quarter = head_dim / 4;
  for (int t = 0; t < n_tokens; ++t) {
    for (int h = 0; h < n_heads; ++h) {
      for (int axis = 0; axis < 2; ++axis) {
        float* v = x + (size_t(t) * n_heads + h) * head_dim + size_t(axis * part);
        const float pos = float(positions_xy[2 * t + axis]);
        for (int i = 0; i < quarter; ++i) {
          const float angle = pos * inv_freq[i];  // float32 product, as HF
          const float c = float(std::cos(double(angle)));
          const float s = float(std::sin(double(angle)));
          const float a = v[i], b = v[i + quarter];
          v[i] = a * c - b * s;
          v[i + quarter] = b * c + a * s;
        }
      }
    }
  }
}

void Softmax(float* x, int rows, int cols) {
  for (int r = 0; r < rows; ++r) {
    float* xr = x + size_t(r) * cols;
    const float mx = *std::max_element(xr, xr + cols);
    double sum = 0.0;
    for (int i = 0; i < cols; ++i) sum += std::exp(double(xr[i]) - mx);
    for (int i = 0; i < cols; ++i) xr[i] = float(std::exp(double(xr[i]) - mx) / sum);
  }
}

float GeluTanh(float u) {
  const double k = std::sqrt(2.0 / M_PI);
  const double d = u;
  return float(0.5 * d * (1.0 + std::tanh(k * (d + 0.044715 * d * d * d))));
}

void GeluMul(const float* gate, const float* up, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = GeluTanh(gate[i]) * up[i];
}

void Embed(const float* table, int vocab, int dim, const int32_t* ids, int n, float scale, float* out) {
  for (int t = 0; t < n; ++t) {
    if (ids[t] < 0 || ids[t] >= vocab) throw std::out_of_range("ref::Embed: token id out of range");
    for (int i = 0; i < dim; ++i) out[size_t(t) * dim + i] = table[size_t(ids[t]) * dim + i] * scale;
  }
}

void Softcap(float* x, size_t n, float cap) {
  for (size_t i = 0; i < n; ++i) x[i] = float(cap * std::tanh(double(x[i]) / cap));
}

void AddScaled(const float* a, const float* b, float* out, size_t n, float scale) {
  for (size_t i = 0; i < n; ++i) out[i] = (a[i] + (b ? b[i] : 0.f)) * scale;
}

void TopKSoftmax(const float* logits, int rows, int n_experts, int k, const float* per_expert_scale, int32_t* ids,
                 float* weights) {
  std::vector<int> order(static_cast<size_t>(n_experts));  // not size_t(...): vexing parse
  for (int r = 0; r < rows; ++r) {
    const float* lr = logits + size_t(r) * n_experts;
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return lr[a] > lr[b]; });
    const float mx = lr[order[0]];
    double sum = 0.0;
    for (int j = 0; j < k; ++j) sum += std::exp(double(lr[order[size_t(j)]]) - mx);
    for (int j = 0; j < k; ++j) {
      const int e = order[size_t(j)];
      float w = float(std::exp(double(lr[e]) - mx) / sum);
      if (per_expert_scale) w *= per_expert_scale[e];
      ids[size_t(r) * k + j] = e;
      weights[size_t(r) * k + j] = w;
    }
  }
}

void Attention(const float* q, const float* k_cache, const float* v_cache, float* out, const AttentionShape& shape) {
  const int T = shape.tokens, start_pos = shape.start_pos, n_heads = shape.n_heads, n_kv_heads = shape.n_kv_heads;
  const int head_dim = shape.head_dim, cache_len = shape.cache_len, window = shape.window;
  const float scale = shape.scale;
  const int group = n_heads / n_kv_heads;
  std::vector<double> scores;
  for (int t = 0; t < T; ++t) {
    const int p = start_pos + t;
    const int first = window > 0 ? std::max(0, p - window + 1) : 0;
    const int last = shape.last_key ? std::max(p, int(shape.last_key[t])) : p;
    if (last - first + 1 > cache_len) throw std::invalid_argument("ref::Attention: cache too short");
    for (int h = 0; h < n_heads; ++h) {
      const int kvh = h / group;
      const float* qv = q + (size_t(t) * n_heads + h) * head_dim;
      scores.assign(size_t(last - first + 1), 0.0);
      double mx = -INFINITY;
      for (int j = first; j <= last; ++j) {
        const float* kv = k_cache + (size_t(j % cache_len) * n_kv_heads + kvh) * head_dim;
        double s = 0.0;
        for (int d = 0; d < head_dim; ++d) s += double(qv[d]) * kv[d];
        s *= scale;
        scores[size_t(j - first)] = s;
        mx = std::max(mx, s);
      }
      double sum = 0.0;
      for (double& s : scores) sum += (s = std::exp(s - mx));
      float* o = out + (size_t(t) * n_heads + h) * head_dim;
      for (int d = 0; d < head_dim; ++d) {
        double acc = 0.0;
        for (int j = first; j <= last; ++j) {
          acc += scores[size_t(j - first)] * v_cache[(size_t(j % cache_len) * n_kv_heads + kvh) * head_dim + d];
        }
        o[d] = float(acc / sum);
      }
    }
  }
}

}  // namespace vkg::ref
