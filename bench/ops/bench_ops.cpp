// vkg_bench_ops: per-op device time from timestamp queries at the real Gemma 4 shapes (layer: bench).
// Reports GB/s (bytes the op must move: weights + activations) as a percentage of the device's own
// vkCmdCopyBuffer bandwidth, and GFLOP/s, and each case's launch geometry (dispatches, workgroups
// and invocations per dispatch, bytes read as the recorder reports them). To add an op, append cases in BuildCases()'s Append*Cases: a case
// allocates its inputs in Prepare and returns the closure that records one execution.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench/ops/coopmat_peak.h"
#include "host/device/bandwidth.h"
#include "host/device/gpu_context.h"
#include "host/device/tensor.h"
#include "host/device/weight_matrix.h"
#include "host/formats/dtype.h"
#include "host/ops/attention.h"
#include "host/ops/attention_inputs.h"
#include "host/ops/elementwise.h"
#include "host/ops/matmul.h"
#include "host/ops/matmul_coopmat.h"
#include "host/ops/op_context.h"
#include "host/ops/ple.h"
#include "host/ops/quantize_activations.h"
#include "host/ops/rms_norm.h"
#include "host/ops/rope.h"
#include "host/reference/ref_ops.h"
#include "vk/buffer.h"
#include "vk/check.h"
#include "vk/command.h"
#include "vk/query.h"

#include "git_commit.h"

namespace vkg::bench {
namespace {

struct Options {
  std::string device;
  int reps = 7;
  bool json = false;
  std::string filter;
  KernelFamily kernels = KernelFamily::kDevice;  // --kernels: A/B of the two families on one device
  // --int-dot: the integer-dot q8_0/q4_0 products (host/ops/matmul_int8.h) auto, off or forced;
  // A/B them against the float products with --kernels gpu --int-dot off / force.
  FeatureUse integer_dot = FeatureUse::kAuto;
};

// What a case needs to allocate its inputs.
struct Env {
  GpuContext& gpu;
  vk::BlockAllocator& alloc;  // reset after every case
};

// One prepared execution: `record` records the op once; bytes and flops are per execution.
struct Prepared {
  std::function<void(OpContext&)> record;
  double bytes = 0;
  double flops = 0;
  std::string skip;  // non-empty: the case cannot run on this device, and why
};

struct Case {
  std::string name;   // unique, matched by --filter
  std::string op;     // "matvec", "matmul", ...
  std::string dtype;  // weight type, or "" when not applicable
  std::string shape;  // human-readable
  std::function<Prepared(Env&)> prepare;
};

// Launch geometry of one recorded execution (vk::Recorder's profile).
struct Geometry {
  uint32_t dispatches = 0;
  double workgroups = 0, invocations = 0;  // per dispatch (mean)
  double bytes_read = 0;                   // all dispatches
  bool estimated = false;                  // some dispatch did not state its bytes
  std::string shaders;                     // the shader variants dispatched, in order, '+'-joined
};

struct Result {
  const Case* c = nullptr;
  double median_ms = 0, min_ms = 0, gbps = 0, gflops = 0, pct_copy = 0;
  double pct_peak = -1;  // matmul on matrix units: % of the measured f16 peak; < 0: not applicable
  Geometry geometry;
  std::string skip;
};

// Cheap reproducible values in [-1, 1) for weights and activations (content does not affect speed).
float Noise(uint64_t i) {
  i = (i + 0x9E3779B97F4A7C15ull) * 0xBF58476D1CE4E5B9ull;
  i ^= i >> 29;
  return float((i >> 40) & 0xffffff) * (2.0f / 16777216.0f) - 1.0f;
}

Tensor NewTensor(Env& env, uint32_t rows, uint32_t cols) {
  Tensor t{env.alloc.Allocate(uint64_t(rows) * cols * 4), DType::F32, rows, cols};
  std::vector<float> v(t.elements());
  for (size_t i = 0; i < v.size(); ++i) v[i] = Noise(i + 12345);
  env.gpu.transfer().Upload(t.slice, v.data(), v.size() * 4);
  return t;
}

// ---- MatMul cases: y[M][N] = x[M][K] W[N][K]^T ----

// gpu_only: skipped on CPU devices (512-token products at the real shapes take minutes there).
Case MatMulCase(DType t, uint32_t n, uint32_t k, uint32_t m, bool gpu_only = false) {
  Case c;
  c.op = m == 1 ? "matvec" : "matmul";
  c.dtype = std::string(DTypeName(t));
  c.shape = std::to_string(n) + "x" + std::to_string(k) + (m == 1 ? "" : " M=" + std::to_string(m));
  c.name = c.op + "/" + c.dtype + "/" + std::to_string(n) + "x" + std::to_string(k) +
           (m == 1 ? "" : "/M" + std::to_string(m));
  c.prepare = [t, n, k, m, gpu_only](Env& env) {
    Prepared p;
    if (gpu_only && env.gpu.device().caps().type == VK_PHYSICAL_DEVICE_TYPE_CPU) {
      p.skip = "a GPU-sized prefill: minutes on a CPU device";
      return p;
    }
    // The format's own device bytes (data and scales views; K-quant rows padded to 256 values),
    // so GB/s compares what each format really moves, not its nominal bits per weight.
    const uint32_t cols_padded = PaddedCols(t, k);
    const uint64_t weight_bytes = (WeightRowBytes(t, cols_padded) + WeightScaleRowBytes(t, cols_padded)) * uint64_t(n);
    const uint64_t room = env.gpu.device().caps().DeviceLocalBytes();
    if (room && weight_bytes > room / 2) {
      p.skip = "weights (" + std::to_string(weight_bytes >> 20) + " MiB) exceed half the device memory";
      return p;
    }
    auto w = std::make_shared<WeightMatrix>(UploadWeightMatrix(
        env.gpu.device(), env.alloc, env.gpu.transfer(), t, n, k,
        [k](uint32_t r, float* out) {
          for (uint32_t i = 0; i < k; ++i) out[i] = Noise(uint64_t(r) * k + i);
        },
        "bench_w"));
    const Tensor x = NewTensor(env, m, k), y = NewTensor(env, m, n);
    // The int8 scratch: where --int-dot selects the integer-dot path, the time includes quantizing x.
    const vk::BufferSlice int8 = env.alloc.Allocate(Int8ActivationsBytes(m, k));
    p.bytes = double(weight_bytes) + 4.0 * m * (double(k) + n);
    p.flops = 2.0 * m * n * double(k);
    p.record = [w, x, y, int8](OpContext& ctx) { MatMul(ctx, *w, x, y, {.int8_scratch = int8}); };
    return p;
  };
  return c;
}

// ---- Other ops at real shapes: bytes are each tensor read or written once ----

Case SimpleCase(std::string op, std::string shape, std::function<Prepared(Env&)> prepare) {
  Case c;
  c.op = std::move(op);
  c.shape = std::move(shape);
  c.name = c.op + "/" + c.shape;
  c.prepare = std::move(prepare);
  return c;
}

Case RmsNormCase(uint32_t rows, uint32_t dim) {
  return SimpleCase("rms_norm", std::to_string(rows) + "x" + std::to_string(dim), [rows, dim](Env& env) {
    Prepared p;
    const Tensor x = NewTensor(env, rows, dim), w = NewTensor(env, 1, dim), y = NewTensor(env, rows, dim);
    p.bytes = 4.0 * (2.0 * rows * dim + dim);
    p.flops = 4.0 * rows * dim;
    p.record = [x, w, y](OpContext& ctx) { RmsNorm(ctx, x, w, y, 1e-6f); };
    return p;
  });
}

// A block's end: x = (x + norm(y)) * s, a = norm(x): reads x, y, writes x, a.
Case ResidualNormCase(uint32_t rows, uint32_t dim) {
  return SimpleCase("residual_norm", std::to_string(rows) + "x" + std::to_string(dim), [rows, dim](Env& env) {
    Prepared p;
    const Tensor x = NewTensor(env, rows, dim), y = NewTensor(env, rows, dim), a = NewTensor(env, rows, dim);
    const Tensor w1 = NewTensor(env, 1, dim), w2 = NewTensor(env, 1, dim);
    p.bytes = 4.0 * (4.0 * rows * dim + 2.0 * dim);
    p.flops = 10.0 * rows * dim;
    p.record = [=](OpContext& ctx) { ResidualRmsNorm(ctx, x, y, w1, 0.9f, w2, a, 1e-6f); };
    return p;
  });
}

// Per-head norms + RoPE of q and k + the KV append from a stacked q|k|v row (f16 cache).
Case AttentionInputsCase(uint32_t tokens, uint32_t heads, uint32_t kv_heads, uint32_t head_dim, uint32_t pairs) {
  return SimpleCase("attention_inputs",
                    std::to_string(tokens) + "x" + std::to_string(heads) + "h" + std::to_string(kv_heads) + "kv/D" +
                        std::to_string(head_dim),
                    [=](Env& env) {
                      Prepared p;
                      const uint32_t q_cols = heads * head_dim, kv_cols = kv_heads * head_dim;
                      const Tensor qkv = NewTensor(env, tokens, q_cols + 2 * kv_cols);
                      const Tensor q = NewTensor(env, tokens, q_cols), n = NewTensor(env, 1, head_dim);
                      const Tensor f = NewTensor(env, 1, head_dim / 2);
                      const auto inv = ref::RopeInvFreq(int(head_dim), head_dim == 512 ? 1e6f : 1e4f, int(pairs));
                      env.gpu.transfer().Upload(f.slice, inv.data(), inv.size() * 4);
                      const uint32_t slots = 4096;
                      const Tensor kc{env.alloc.Allocate(uint64_t(slots) * kv_cols * 2), DType::F16, slots, kv_cols};
                      const Tensor vc{env.alloc.Allocate(uint64_t(slots) * kv_cols * 2), DType::F16, slots, kv_cols};
                      p.bytes = 4.0 * tokens * (2.0 * q_cols + 2.0 * kv_cols) + 2.0 * tokens * 2.0 * kv_cols;
                      p.flops = 10.0 * tokens * (q_cols + 2.0 * kv_cols);
                      p.record = [=](OpContext& ctx) {
                        AttentionInputs in{.qkv = qkv,
                                           .k_col = q_cols,
                                           .v_col = q_cols + kv_cols,
                                           .q = q,
                                           .q_norm = n,
                                           .n_heads = heads,
                                           .head_dim = head_dim,
                                           .inv_freq = f,
                                           .n_kv_heads = kv_heads,
                                           .k_norm = n,
                                           .k_cache = kc,
                                           .v_cache = vc};
                        PrepareAttentionInputs(ctx, in, 1000);
                      };
                      return p;
                    });
}

Case RopeCase(uint32_t tokens, uint32_t heads, uint32_t head_dim, uint32_t pairs, float theta) {
  return SimpleCase("rope", std::to_string(tokens) + "x" + std::to_string(heads) + "x" + std::to_string(head_dim),
                    [=](Env& env) {
                      Prepared p;
                      const Tensor x = NewTensor(env, tokens, heads * head_dim), f = NewTensor(env, 1, head_dim / 2);
                      const auto inv = ref::RopeInvFreq(int(head_dim), theta, int(pairs));
                      env.gpu.transfer().Upload(f.slice, inv.data(), inv.size() * 4);
                      p.bytes = 8.0 * tokens * heads * pairs * 2;
                      p.flops = 6.0 * tokens * heads * pairs;
                      p.record = [x, f, heads, head_dim](OpContext& ctx) { Rope(ctx, x, heads, head_dim, 1000, f); };
                      return p;
                    });
}

// Per-layer inputs (E2B: L = 35 layers of P = 256): the norm of each slice and the combine, fused
// (PleNormCombine) or as RmsNorm + PleCombine.
Case PleCase(uint32_t tokens, uint32_t layers, uint32_t P, bool fused) {
  return SimpleCase(fused ? "ple_norm_combine" : "rms_norm+ple_combine",
                    std::to_string(tokens) + "x" + std::to_string(layers) + "x" + std::to_string(P), [=](Env& env) {
                      Prepared p;
                      const Tensor c = NewTensor(env, tokens, layers * P), t = NewTensor(env, tokens, layers * P);
                      const Tensor w = NewTensor(env, 1, P), out = NewTensor(env, layers * tokens, P);
                      p.bytes = 12.0 * tokens * layers * P;
                      p.flops = 6.0 * tokens * layers * P;
                      const PleCombineShape shape{
                          .n_tokens = tokens, .n_layers = layers, .ple_rows = tokens, .scale = 0.7f};
                      p.record = [=](OpContext& ctx) {
                        if (fused) {
                          PleNormCombine(ctx, c, w, t, out, shape, 1e-6f);
                        } else {
                          const Tensor slices{c.slice, DType::F32, tokens * layers, P};
                          RmsNorm(ctx, slices, w, slices, 1e-6f);
                          ctx.rec.ComputeToCompute();
                          PleCombine(ctx, c, t, out, shape);
                        }
                      };
                      return p;
                    });
}

Case GeluMulCase(uint32_t rows, uint32_t n) {
  return SimpleCase("gelu_mul", std::to_string(rows) + "x" + std::to_string(n), [rows, n](Env& env) {
    Prepared p;
    const Tensor g = NewTensor(env, rows, n), u = NewTensor(env, rows, n);
    p.bytes = 12.0 * rows * n;
    p.flops = 10.0 * rows * n;
    p.record = [g, u](OpContext& ctx) { GeluMul(ctx, g, u, g); };
    return p;
  });
}

Case SoftcapCase(uint32_t n) {
  return SimpleCase("softcap", std::to_string(n), [n](Env& env) {
    Prepared p;
    const Tensor x = NewTensor(env, 1, n);
    p.bytes = 8.0 * n;
    p.flops = 4.0 * n;
    p.record = [x](OpContext& ctx) { Softcap(ctx, x, 30.f); };
    return p;
  });
}

// Attention of T queries at the end of a `context`-long f16 cache (decode: T = 1, split along keys).
// coopmat: prefill on the matrix-unit kernel (attention_prefill_coopmat.comp, op
// "attention_coopmat"; not run without the units); otherwise the matrix units are kept off, so
// prefill measures attention_prefill_gpu.comp (GPU family) or attention_prefill.comp (CPU family).
Case AttentionCase(uint32_t T, uint32_t heads, uint32_t kv_heads, uint32_t head_dim, uint32_t context, uint32_t window,
                   bool coopmat = false) {
  const std::string shape = "T" + std::to_string(T) + "/" + std::to_string(heads) + "h" + std::to_string(kv_heads) +
                            "kv/D" + std::to_string(head_dim) + "/ctx" + std::to_string(context) +
                            (window ? "/w" + std::to_string(window) : "");
  return SimpleCase(coopmat ? "attention_coopmat" : "attention", shape, [=](Env& env) {
    Prepared p;
    if (coopmat) {
      const vk::DeviceCaps& caps = env.gpu.device().caps();
      if (!CoopMatKernelsCompiled()) {
        p.skip = "not run: this build's glslangValidator cannot compile GL_KHR_cooperative_matrix";
        return p;
      }
      if (!caps.HasCoopMatF16()) {
        p.skip = "not run: the device has no VK_KHR_cooperative_matrix f16 x f16 -> f32 subgroup shape";
        return p;
      }
    }
    AttentionShape a;
    a.start_pos = context - T;
    a.n_heads = heads;
    a.n_kv_heads = kv_heads;
    a.head_dim = head_dim;
    a.cache_len = window ? std::min(context, window + T - 1) : context;
    a.window = window;
    const uint32_t keys = window ? std::min(context, window) : context;
    const Tensor q = NewTensor(env, T, heads * head_dim), out = NewTensor(env, T, heads * head_dim);
    const uint64_t cache_bytes = uint64_t(a.cache_len) * kv_heads * head_dim * 2;
    const Tensor k{env.alloc.Allocate(cache_bytes), DType::F16, a.cache_len, kv_heads * head_dim};
    const Tensor v{env.alloc.Allocate(cache_bytes), DType::F16, a.cache_len, kv_heads * head_dim};
    std::vector<uint16_t> h(cache_bytes / 2);
    for (size_t i = 0; i < h.size(); ++i) h[i] = FloatToHalf(Noise(i) * 0.1f);
    env.gpu.transfer().Upload(k.slice, h.data(), cache_bytes);
    env.gpu.transfer().Upload(v.slice, h.data(), cache_bytes);
    auto scratch = std::make_shared<Tensor>();
    if (const uint64_t n = AttentionScratchFloats(a, T)) *scratch = NewTensor(env, 1, uint32_t(n));
    p.bytes = 2.0 * double(keys) * kv_heads * head_dim * 2 + 8.0 * T * heads * head_dim;
    // Prefill: each query sees its own causal (window) range, not all the keys.
    double seen = 0;
    for (uint32_t t = 0; t < T; ++t) {
      const uint32_t pos = a.start_pos + t;
      seen += window ? std::min(pos + 1, window) : pos + 1;
    }
    p.flops = 4.0 * heads * seen * head_dim;
    p.record = [=](OpContext& ctx) {
      if (coopmat) {
        ctx.kernels = KernelFamily::kGpu;  // the matrix-unit kernel is of the GPU family
        ctx.features.cooperative_matrix = FeatureUse::kForce;
      } else {
        ctx.features.cooperative_matrix = FeatureUse::kOff;
      }
      Attention(ctx, q, k, v, out, a, scratch->slice.buffer ? scratch.get() : nullptr);
    };
    return p;
  });
}

// The matrix products: decode matrix-vector, small prefill and 512-token prefill products.
void AppendProductCases(std::vector<Case>& cases) {
  // Every weight format a product kernel reads: the original three first (their cases keep the
  // order earlier results files list), then ggml's block formats (GGUF files hold them as stored).
  const DType product_types[] = {DType::Q4_0, DType::Q8_0, DType::F16,  DType::Q4_K, DType::Q5_K, DType::Q6_K,
                                 DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K};
  // The 31B shapes stay with the original formats: their 115M-value matrices take seconds each to
  // quantize on the host, and each further format would add that to every bench/gpu_suite.sh run
  // for a per-format comparison the E2B shapes already give.
  const auto original = [](DType t) { return t == DType::Q4_0 || t == DType::Q8_0 || t == DType::F16; };
  // Decode matrix-vector products. E2B: 1536x6144 (FFN down), 6144x1536 (gate/up), 2048x1536
  // (attention q). 31B: 5376x21504 (down), 21504x5376 (gate/up).
  const uint32_t e2b_mv[][2] = {{1536, 6144}, {6144, 1536}, {2048, 1536}};
  const uint32_t b31_mv[][2] = {{5376, 21504}, {21504, 5376}};
  for (DType t : product_types) {
    for (const auto& s : e2b_mv) cases.push_back(MatMulCase(t, s[0], s[1], 1));
    if (original(t))
      for (const auto& s : b31_mv) cases.push_back(MatMulCase(t, s[0], s[1], 1));
  }
  // Prefill (8 and 64 tokens) at the E2B FFN shapes; one 31B shape at 8 tokens.
  for (DType t : product_types) {
    for (uint32_t m : {8u, 64u}) {
      cases.push_back(MatMulCase(t, 6144, 1536, m));
      cases.push_back(MatMulCase(t, 1536, 6144, m));
    }
  }
  cases.push_back(MatMulCase(DType::Q4_0, 21504, 5376, 8));
  // 512-token prefill products (matrix units where the device has them: "% of peak"), GPUs only.
  // E2B: 2048x1536 (q), 6144x1536 (gate/up), 1536x6144 (down). 31B: 5376x5376 (o), 21504x5376
  // (gate/up), 5376x21504 (down). q8_0 has had no 512-token cases; that is left as it was.
  const uint32_t e2b_prefill[][2] = {{2048, 1536}, {6144, 1536}, {1536, 6144}};
  const uint32_t b31_prefill[][2] = {{5376, 5376}, {21504, 5376}, {5376, 21504}};
  for (DType t : product_types) {
    if (t == DType::Q8_0) continue;
    for (const auto& s : e2b_prefill) cases.push_back(MatMulCase(t, s[0], s[1], 512, true));
    if (original(t))
      for (const auto& s : b31_prefill) cases.push_back(MatMulCase(t, s[0], s[1], 512, true));
  }
}

void AppendElementwiseCases(std::vector<Case>& cases) {
  // Norms, RoPE and elementwise ops at E2B (H 1536, 8 heads, I 6144/12288) and 31B (H 5376,
  // 32 heads of 256 / 512, I 21504) decode and 64-token prefill shapes.
  for (uint32_t rows : {1u, 64u}) {
    cases.push_back(RmsNormCase(rows, 1536));
    cases.push_back(RmsNormCase(rows, 5376));
    cases.push_back(GeluMulCase(rows, 12288));
    cases.push_back(GeluMulCase(rows, 21504));
  }
  for (uint32_t rows : {1u, 64u}) {
    cases.push_back(ResidualNormCase(rows, 1536));
    cases.push_back(ResidualNormCase(rows, 5376));
  }
  cases.push_back(AttentionInputsCase(1, 8, 1, 256, 128));   // E2B sliding layer, decode
  cases.push_back(AttentionInputsCase(1, 32, 4, 512, 64));   // 31B full layer, decode
  cases.push_back(AttentionInputsCase(64, 8, 1, 256, 128));  // E2B, a 64-token prefill chunk
  cases.push_back(RopeCase(1, 8, 256, 128, 1e4f));
  cases.push_back(RopeCase(64, 32, 512, 64, 1e6f));
  cases.push_back(SoftcapCase(262144));
  for (uint32_t rows : {1u, 64u}) {
    cases.push_back(PleCase(rows, 35, 256, false));
    cases.push_back(PleCase(rows, 35, 256, true));
  }
}

void AppendAttentionCases(std::vector<Case>& cases) {
  // Attention: E2B sliding (8 heads over 1 KV head, D 256, window 512) and full (D 512) layers,
  // 31B full layers (32 heads over 4 KV heads, D 512) at 4096 and 32768 positions.
  cases.push_back(AttentionCase(1, 8, 1, 256, 4096, 512));
  cases.push_back(AttentionCase(1, 8, 1, 512, 4096, 0));
  cases.push_back(AttentionCase(1, 32, 4, 512, 4096, 0));
  cases.push_back(AttentionCase(1, 32, 4, 512, 32768, 0));
  cases.push_back(AttentionCase(64, 8, 1, 256, 1024, 512));
  // Prefill attention (attention_prefill_gpu.comp in the GPU family, attention_prefill.comp in the
  // CPU family): a prompt's first 512-token chunk at E2B sliding (window 512) and full layers, and
  // at 31B sliding (32 heads over 16 KV heads, D 256, window 1024) and full layers; E2B 2048-token
  // chunks, sliding and full.
  cases.push_back(AttentionCase(512, 8, 1, 256, 512, 512));
  cases.push_back(AttentionCase(512, 8, 1, 512, 512, 0));
  cases.push_back(AttentionCase(512, 32, 16, 256, 512, 1024));
  cases.push_back(AttentionCase(512, 32, 4, 512, 512, 0));
  cases.push_back(AttentionCase(2048, 8, 1, 256, 2048, 512));
  cases.push_back(AttentionCase(2048, 8, 1, 512, 2048, 0));
  // The same prefill shapes on matrix units (attention_prefill_coopmat.comp), and E2B's full layer
  // at the end of a 32k context.
  cases.push_back(AttentionCase(512, 8, 1, 256, 512, 512, true));
  cases.push_back(AttentionCase(512, 8, 1, 512, 512, 0, true));
  cases.push_back(AttentionCase(512, 32, 16, 256, 512, 1024, true));
  cases.push_back(AttentionCase(512, 32, 4, 512, 512, 0, true));
  cases.push_back(AttentionCase(2048, 8, 1, 256, 2048, 512, true));
  cases.push_back(AttentionCase(2048, 8, 1, 512, 2048, 0, true));
  cases.push_back(AttentionCase(512, 8, 1, 512, 32768, 0, true));
}

// Every case, in the order the results list them (earlier results files keep that order).
std::vector<Case> BuildCases() {
  std::vector<Case> cases;
  AppendProductCases(cases);
  AppendElementwiseCases(cases);
  AppendAttentionCases(cases);
  return cases;
}

// ---- timing ----

// Median and minimum device time (ms) of `record` over reps submissions, after one warm-up.
std::pair<double, double> TimeMs(GpuContext& gpu, int reps, KernelFamily kernels, KernelFeatures features,
                                 const std::function<void(OpContext&)>& record) {
  vk::TimestampPool pool(gpu.device(), 2);
  vk::Recorder rec(gpu.device());
  OpContext ctx{gpu.device(), gpu.pipelines(), rec, kernels, features};
  rec.Begin();
  rec.ResetTimestamps(pool);
  rec.WriteTimestamp(pool, 0);
  record(ctx);
  rec.WriteTimestamp(pool, 1);
  rec.End();
  rec.Submit();  // warm-up (also pays any first-use compilation)
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    rec.Submit();
    ms.push_back(pool.ElapsedNs(0, 1) * 1e-6);
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms.front()};
}

// One more execution with the recorder's profiler attached, for the launch geometry only.
Geometry MeasureGeometry(GpuContext& gpu, KernelFamily kernels, KernelFeatures features,
                         const std::function<void(OpContext&)>& record) {
  vk::TimestampPool pool(gpu.device(), 256);
  vk::Recorder rec(gpu.device());
  rec.AttachProfiler(&pool);
  OpContext ctx{gpu.device(), gpu.pipelines(), rec, kernels, features};
  rec.Begin();
  record(ctx);
  rec.End();
  rec.Submit();
  Geometry g;
  for (const auto& t : rec.TakeProfile()) {
    if (t.name == "copy" || t.name == "fill") continue;
    ++g.dispatches;
    g.workgroups += double(t.workgroups);
    g.invocations += double(t.invocations);
    g.bytes_read += double(t.bytes_read);
    g.estimated = g.estimated || t.bytes_estimated;
    if (g.shaders.find(t.name) == std::string::npos) g.shaders += (g.shaders.empty() ? "" : "+") + t.name;
  }
  if (g.dispatches) {
    g.workgroups /= g.dispatches;
    g.invocations /= g.dispatches;
  }
  return g;
}

const char* FeatureName(FeatureUse u) {
  return u == FeatureUse::kForce ? "force" : u == FeatureUse::kOff ? "off" : "auto";
}

void PrintHelp() {
  std::printf(
      "usage: vkg_bench_ops [--device N|NAME] [--reps N] [--json] [--filter SUBSTR] [--kernels F] [--int-dot U]\n"
      "                     [--help]\n"
      "Times each op case with timestamp queries (median of --reps runs after one warm-up) and\n"
      "prints GB/s as a percentage of the device's vkCmdCopyBuffer bandwidth, and GFLOP/s; first it\n"
      "measures the matrix-unit f16 peak (TFLOP/s; \"not run: <reason>\" without VK_KHR_cooperative_matrix)\n"
      "and gives prefill products on the matrix units as a %% of it.\n"
      "  --device N|NAME  device index or name substring (default: VKGEMMA_DEVICE or the first)\n"
      "  --reps N         timed repetitions per case (default 7)\n"
      "  --json           print one JSON object instead of the table\n"
      "  --filter SUBSTR  run only cases whose name contains SUBSTR (e.g. matvec/q4_0)\n"
      "  --kernels F      kernel family: device (default: the CPU-device kernels on CPU devices, the\n"
      "                   GPU ones elsewhere), gpu or cpu (forced, for A/B timings on one device)\n"
      "  --int-dot U      q8_0/q4_0 products on int8 activations (GPU family, VK_KHR_shader_integer_dot_\n"
      "                   product): auto (default: where the device accelerates it), off, or force (where\n"
      "                   the device supports it at all); the shaders column says which kernels ran\n"
      "Columns dispatches, workgroups and invocations (per dispatch) and KB read come from the\n"
      "recorder (vk::Recorder::SetDispatchBytes; ~ marks bytes estimated from the bound ranges).\n");
}

// Parses the command line into `o`; a value when the program should exit with it (--help: 0, a bad
// flag: 2, after printing why).
std::optional<int> ParseOptions(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* flag) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "error: %s needs a value\n", flag);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      PrintHelp();
      return 0;
    } else if (a == "--device") {
      o.device = value("--device");
    } else if (a == "--reps") {
      const std::string v = value("--reps");
      char* end = nullptr;
      const long r = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || r < 1 || r > 100000) {
        std::fprintf(stderr, "error: --reps needs a positive integer, got '%s'\n", v.c_str());
        return 2;
      }
      o.reps = int(r);
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--filter") {
      o.filter = value("--filter");
    } else if (a == "--int-dot") {
      const std::string v = value("--int-dot");
      if (v == "auto") {
        o.integer_dot = FeatureUse::kAuto;
      } else if (v == "off") {
        o.integer_dot = FeatureUse::kOff;
      } else if (v == "force") {
        o.integer_dot = FeatureUse::kForce;
      } else {
        std::fprintf(stderr, "error: --int-dot takes auto, off or force, got '%s'\n", v.c_str());
        return 2;
      }
    } else if (a == "--kernels") {
      const std::string v = value("--kernels");
      if (v == "device") {
        o.kernels = KernelFamily::kDevice;
      } else if (v == "gpu") {
        o.kernels = KernelFamily::kGpu;
      } else if (v == "cpu") {
        o.kernels = KernelFamily::kCpu;
      } else {
        std::fprintf(stderr, "error: --kernels takes device, gpu or cpu, got '%s'\n", v.c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr, "error: unknown flag '%s' (see --help)\n", a.c_str());
      return 2;
    }
  }
  return std::nullopt;
}

// The yardsticks the cases are reported against, measured before them.
struct Yardsticks {
  double copy_gbps = 0;        // vkCmdCopyBuffer, read+write
  CoopMatPeak peak;            // the matrix units' f16 peak, or why it was not run
  CoopMatPath prefill_path{};  // whether prefill products run on the matrix units
};

Yardsticks MeasureYardsticks(GpuContext& gpu, const Options& o) {
  Yardsticks y;
  y.copy_gbps = MeasureCopyBandwidth(gpu, o.reps).gbps;
  y.peak = MeasureCoopMatPeak(gpu, o.reps);
  vk::Recorder rec(gpu.device());
  const OpContext ctx{gpu.device(), gpu.pipelines(), rec, o.kernels};
  y.prefill_path = CoopMatPrefillPath(ctx);
  return y;
}

// The text report's header: device, yardsticks, kernel choice, and the table's head.
void PrintTextHeader(const vk::DeviceCaps& caps, const Options& o, const Yardsticks& y) {
  std::printf("device: %s (%s), driver %s %s, commit %s\n", caps.name.c_str(), caps.type_name.c_str(),
              caps.driver_name.c_str(), caps.driver_info.c_str(), VKG_GIT_COMMIT);
  std::printf("copy bandwidth (vkCmdCopyBuffer, read+write): %.1f GB/s; median of %d reps\n", y.copy_gbps, o.reps);
  if (y.peak.not_run.empty())
    std::printf("matrix-unit f16 peak (coopmat_peak.comp, %s): %.1f TFLOP/s\n", y.peak.unit.c_str(), y.peak.tflops);
  else
    std::printf("matrix-unit f16 peak: not run: %s\n", y.peak.not_run.c_str());
  std::printf("prefill products on matrix units: %s\n\n", CoopMatPathName(y.prefill_path));
  std::printf("kernels: %s, integer dot: %s\n\n",
              o.kernels == KernelFamily::kGpu   ? "gpu (forced)"
              : o.kernels == KernelFamily::kCpu ? "cpu (forced)"
                                                : "device",
              FeatureName(o.integer_dot));
  std::printf(
      "| case | op | dtype | shape | median ms | min ms | GB/s | %% of copy | GFLOP/s | dispatches | "
      "workgroups | invocations | KB read | %% of f16 peak | shaders |\n");
  std::printf("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
  std::fflush(stdout);
}

// Prepares, times and measures one case; its buffers are released (alloc reset) before returning.
Result RunCase(Env& env, const Case& c, const Options& o, const Yardsticks& y) {
  Result r;
  r.c = &c;
  {
    Prepared p = c.prepare(env);
    r.skip = p.skip;
    if (p.skip.empty()) {
      const KernelFeatures features{.integer_dot = o.integer_dot};
      const auto [median, min] = TimeMs(env.gpu, o.reps, o.kernels, features, p.record);
      r.geometry = MeasureGeometry(env.gpu, o.kernels, features, p.record);
      r.median_ms = median;
      r.min_ms = min;
      r.gbps = p.bytes / (median * 1e-3) * 1e-9;
      r.gflops = p.flops / (median * 1e-3) * 1e-9;
      r.pct_copy = 100.0 * r.gbps / y.copy_gbps;
      // Products that ran on the matrix units (prefill, not f32) against the measured peak.
      if (c.op == "matmul" && c.dtype != "f32" && y.prefill_path == CoopMatPath::kMatrixUnits && y.peak.tflops > 0)
        r.pct_peak = 100.0 * r.gflops * 1e-3 / y.peak.tflops;
    }
  }  // the case's buffers and views die before their memory is reused
  env.alloc.Reset();
  return r;
}

void PrintTextRow(const Result& r) {
  const Case& c = *r.c;
  if (!r.skip.empty()) {
    std::printf("| %s | %s | %s | %s | skipped: %s | | | | | | | | | |\n", c.name.c_str(), c.op.c_str(),
                c.dtype.c_str(), c.shape.c_str(), r.skip.c_str());
  } else {
    const Geometry& g = r.geometry;
    char pct_peak[32] = "";
    if (r.pct_peak >= 0) std::snprintf(pct_peak, sizeof pct_peak, "%.1f%%", r.pct_peak);
    std::printf("| %s | %s | %s | %s | %.3f | %.3f | %.2f | %.1f%% | %.2f | %u | %.0f | %.0f | %s%.1f | %s | %s |\n",
                c.name.c_str(), c.op.c_str(), c.dtype.c_str(), c.shape.c_str(), r.median_ms, r.min_ms, r.gbps,
                r.pct_copy, r.gflops, g.dispatches, g.workgroups, g.invocations, g.estimated ? "~" : "",
                g.bytes_read / 1024.0, pct_peak, g.shaders.c_str());
  }
  std::fflush(stdout);
}

void PrintJson(const vk::DeviceCaps& caps, const Options& o, const Yardsticks& y, const std::vector<Result>& results) {
  nlohmann::json j;
  j["device"] = caps.name;
  j["device_type"] = caps.type_name;
  j["driver"] = caps.driver_name + " " + caps.driver_info;
  j["driver_version"] = caps.driver_version_string;
  j["api_version"] = caps.api_version_string;
  j["commit"] = VKG_GIT_COMMIT;
  j["reps"] = o.reps;
  j["copy_gbps"] = y.copy_gbps;
  if (y.peak.not_run.empty()) {
    j["coopmat_peak_tflops"] = y.peak.tflops;
    j["coopmat_peak_unit"] = y.peak.unit;
  } else {
    j["coopmat_peak_not_run"] = y.peak.not_run;
  }
  j["prefill_coopmat"] = CoopMatPathName(y.prefill_path);
  j["kernels"] = o.kernels == KernelFamily::kGpu ? "gpu" : o.kernels == KernelFamily::kCpu ? "cpu" : "device";
  j["integer_dot"] = FeatureName(o.integer_dot);
  j["results"] = nlohmann::json::array();
  for (const Result& r : results) {
    nlohmann::json e{{"name", r.c->name}, {"op", r.c->op}, {"dtype", r.c->dtype}, {"shape", r.c->shape}};
    if (!r.skip.empty()) {
      e["skipped"] = r.skip;
    } else {
      e["median_ms"] = r.median_ms;
      e["min_ms"] = r.min_ms;
      e["gbps"] = r.gbps;
      e["pct_of_copy"] = r.pct_copy;
      e["gflops"] = r.gflops;
      if (r.pct_peak >= 0) e["pct_of_coopmat_peak"] = r.pct_peak;
      e["dispatches"] = r.geometry.dispatches;
      e["workgroups_per_dispatch"] = r.geometry.workgroups;
      e["invocations_per_dispatch"] = r.geometry.invocations;
      e["bytes_read"] = r.geometry.bytes_read;
      e["bytes_read_estimated"] = r.geometry.estimated;
      e["shaders"] = r.geometry.shaders;
    }
    j["results"].push_back(e);
  }
  std::printf("%s\n", j.dump(2).c_str());
}

int Main(int argc, char** argv) {
  Options o;
  if (const std::optional<int> exit_code = ParseOptions(argc, argv, o)) return *exit_code;

  GpuContext gpu(GpuOptions{o.device, false});
  const auto& caps = gpu.device().caps();
  vk::BlockAllocator alloc(gpu.device(), vk::MemoryKind::kDeviceLocal, "bench");
  Env env{gpu, alloc};
  const Yardsticks yardsticks = MeasureYardsticks(gpu, o);
  if (!o.json) PrintTextHeader(caps, o, yardsticks);

  const std::vector<Case> cases = BuildCases();
  std::vector<Result> results;
  for (const Case& c : cases) {
    if (!o.filter.empty() && c.name.find(o.filter) == std::string::npos) continue;
    results.push_back(RunCase(env, c, o, yardsticks));
    if (!o.json) PrintTextRow(results.back());
  }
  if (o.json) PrintJson(caps, o, yardsticks, results);
  return 0;
}

}  // namespace
}  // namespace vkg::bench

int main(int argc, char** argv) {
  try {
    return vkg::bench::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
