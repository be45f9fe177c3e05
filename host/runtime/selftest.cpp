// `vkgemma selftest` (layer: host/runtime): runs the plan of selftest_plan.cpp on a device through
// the forward pass's own host ops, and compares every case with the CPU reference.
//
// Tolerances (NMSE over the checked outputs) are the op tests', for the reasons they state:
// * float products (every format; the reference multiplies the values the device holds, in
//   double): 1e-10, tests/ops/matmul_test.cpp (f32 accumulation order only: ~1e-14..1e-12);
// * integer-dot products (int8 activations) against the float product: 1e-4,
//   tests/ops/matmul_int8_test.cpp (x quantized to 8 bits per block: ~1.6e-5);
// * matrix-unit products, reference fed f16-rounded x and weights: 1e-9,
//   tests/ops/matmul_coopmat_test.cpp (units may truncate their f32 sums);
// * attention, f16 K/V as the reference sees them: 1e-9, tests/ops/attention_test.cpp; on matrix
//   units (q and P rounded to f16), reference fed f16 q: 1e-6, tests/ops/attention_coopmat_test.cpp;
//   q8_0 / q4_0 caches (the kernels dequantize q * d in f32 as the reference's values were made):
//   the same bounds, tests/ops/attention_kv_quant_test.cpp, the matrix units' reference also fed
//   the dequantized K, V rounded to f16 (the units' input);
// * norms: 1e-10, tests/ops/rms_norm_test.cpp;
// * attention inputs: q 1e-11, f16 cache rows 2.4e-7 (one f16 ulp where the two f32 results
//   straddle a rounding boundary), tests/ops/attention_inputs_test.cpp;
// * expert products: 1e-10, tests/ops/experts_test.cpp; top-k: the ids exactly and the weights
//   1e-12, tests/ops/topk_test.cpp;
// * embedding gather: exact (0), tests/ops/embed_test.cpp; per-layer inputs' norm + combine:
//   1e-10, tests/ops/ple_test.cpp.
// A wrong block, scale, key, mask edge or head mapping gives NMSE >= 1e-4 (1e-3 for attention), so
// every bound still catches a wrong kernel.
#include "host/runtime/selftest.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include "host/device/gpu_context.h"
#include "host/device/kv_cache.h"
#include "host/device/weight_matrix.h"
#include "host/error.h"
#include "host/model/shapes.h"
#include "host/ops/attention.h"
#include "host/ops/attention_inputs.h"
#include "host/ops/elementwise.h"
#include "host/ops/embed.h"
#include "host/ops/experts.h"
#include "host/ops/matmul.h"
#include "host/ops/ple.h"
#include "host/ops/quantize_activations.h"
#include "host/ops/rms_norm.h"
#include "host/ops/topk.h"
#include "host/reference/ref_ops.h"
#include "host/runtime/selftest_plan.h"
#include "vk/check.h"
#include "vk/query.h"

namespace vkg {
namespace {

using selftest::AttentionCase;
using selftest::AttentionInputsCase;
using selftest::EmbedCase;
using selftest::ExpertCase;
using selftest::NormCase;
using selftest::PleCase;
using selftest::ProductCase;

constexpr double kFloatProductNmse = 1e-10;
constexpr double kInt8ProductNmse = 1e-4;
constexpr double kCoopMatProductNmse = 1e-9;
constexpr double kAttentionNmse = 1e-9;
constexpr double kCoopMatAttentionNmse = 1e-6;
constexpr double kNormNmse = 1e-10;
constexpr double kInputsQNmse = 1e-11;
constexpr double kInputsF16CacheNmse = 2.4e-7;
constexpr double kExpertsNmse = 1e-10;
constexpr double kTopKWeightsNmse = 1e-12;
constexpr double kEmbedNmse = 0.0;
constexpr double kPleNmse = 1e-10;

// Seeded value in [lo, hi) of element i of stream `seed` (a hash: any element without the others).
float Hash(uint64_t seed, uint64_t i, float lo = -1.f, float hi = 1.f) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + i + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return lo + (hi - lo) * float(double(z >> 40) / double(1ull << 24));
}
std::vector<float> Values(size_t n, uint64_t seed, float lo = -1.f, float hi = 1.f) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = Hash(seed, i, lo, hi);
  return v;
}

bool Contains(const std::string& s, const char* what) {
  std::string a = s, b = what;
  std::transform(a.begin(), a.end(), a.begin(), ::tolower);
  std::transform(b.begin(), b.end(), b.begin(), ::tolower);
  return a.find(b) != std::string::npos;
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

// Everything one case allocates, freed when it ends (at most one matrix sample in memory).
class Runner {
 public:
  Runner(GpuContext& gpu, const SelftestOptions& o) : gpu_(gpu), o_(o) {}

  SelftestCase Product(const ProductCase& c);
  SelftestCase Attention(const AttentionCase& c);
  SelftestCase Norm(const NormCase& c, bool residual);
  std::vector<SelftestCase> AttentionInputs(const AttentionInputsCase& c);  // q, then the cache rows
  std::vector<SelftestCase> Experts(const ExpertCase& c);                   // top-k, gate|up, down
  SelftestCase Embed(const EmbedCase& c);
  SelftestCase Ple(const PleCase& c);

 private:
  struct Session {
    std::unique_ptr<vk::BlockAllocator> alloc;
    std::unique_ptr<vk::Recorder> rec;
    std::unique_ptr<vk::TimestampPool> pool;
  };
  Session Begin() {
    Session s;
    s.alloc = std::make_unique<vk::BlockAllocator>(gpu_.device(), vk::MemoryKind::kDeviceLocal, "selftest");
    s.rec = std::make_unique<vk::Recorder>(gpu_.device());
    // Timestamps after every op: the profile names the shader variants the case dispatched.
    s.pool = std::make_unique<vk::TimestampPool>(gpu_.device(), 64);
    s.rec->AttachProfiler(s.pool.get());
    return s;
  }
  Tensor NewTensor(Session& s, uint32_t rows, uint32_t cols, DType t = DType::F32) {
    return Tensor{s.alloc->Allocate(std::max<uint64_t>(16, DTypeBytes(t, uint64_t(rows) * cols))), t, rows, cols};
  }
  void Upload(const Tensor& t, const std::vector<float>& v) {
    if (t.dtype == DType::F16) {
      std::vector<uint16_t> h(v.size());
      for (size_t i = 0; i < v.size(); ++i) h[i] = FloatToHalf(v[i]);
      gpu_.transfer().Upload(t.slice, h.data(), h.size() * 2);
    } else {
      gpu_.transfer().Upload(t.slice, v.data(), v.size() * 4);
    }
  }
  std::vector<float> Download(const Tensor& t) {
    std::vector<float> v(t.elements());
    if (t.dtype == DType::F16) {
      std::vector<uint16_t> h(v.size());
      gpu_.transfer().Download(t.slice, h.data(), h.size() * 2);
      for (size_t i = 0; i < v.size(); ++i) v[i] = HalfToFloat(h[i]);
    } else {
      gpu_.transfer().Download(t.slice, v.data(), v.size() * 4);
    }
    return v;
  }
  vk::BufferSlice UploadIds(Session& s, const std::vector<int32_t>& ids) {
    const vk::BufferSlice slice = s.alloc->Allocate(std::max<uint64_t>(16, ids.size() * 4));
    gpu_.transfer().Upload(slice, ids.data(), ids.size() * 4);
    return slice;
  }
  // A weight matrix of `rows` x k seeded values in its own allocation, and the values it holds.
  struct Matrix {
    std::unique_ptr<vk::BlockAllocator> alloc;
    WeightMatrix w;
    std::vector<float> held;  // [rows][k], as the device holds them (DeviceRowValues)
  };
  Matrix Upload(DType t, uint32_t rows, uint32_t k, uint64_t seed, const std::string& name) {
    Matrix m;
    m.alloc = std::make_unique<vk::BlockAllocator>(gpu_.device(), vk::MemoryKind::kDeviceLocal, "selftest " + name);
    auto row = [&](uint32_t r, float* out) {
      for (uint32_t i = 0; i < k; ++i) out[i] = Hash(seed, uint64_t(r) * k + i);
    };
    m.w = UploadWeightMatrix(gpu_.device(), *m.alloc, gpu_.transfer(), t, rows, k, row, "selftest_" + name);
    m.held.resize(size_t(rows) * k);
    std::vector<float> src(k);
    for (uint32_t r = 0; r < rows; ++r) {
      row(r, src.data());
      const std::vector<float> d = DeviceRowValues(t, src.data(), k);
      std::copy_n(d.begin(), k, m.held.begin() + size_t(r) * k);
    }
    return m;
  }
  // Records body, submits, and returns the shader variants it dispatched ('+'-joined, in order).
  std::string Run(Session& s, const std::function<void(OpContext&)>& body) {
    OpContext ctx{gpu_.device(), gpu_.pipelines(), *s.rec, o_.kernels, o_.features};
    s.rec->Begin();
    body(ctx);
    s.rec->ToHost();
    s.rec->End();
    s.rec->Submit();
    std::vector<std::string> names;
    for (const auto& t : s.rec->TakeProfile()) {
      if (t.name == "copy" || t.name == "fill") continue;
      if (std::find(names.begin(), names.end(), t.name) == names.end()) names.push_back(t.name);
    }
    return Join(names, "+");
  }
  // Fills the case's error fields; applies the perturbation hook first.
  void Finish(SelftestCase& r, const std::vector<double>& ref, std::vector<float> got) {
    if (!o_.perturb.empty() && Contains(r.kernels, o_.perturb.c_str()) && !got.empty()) {
      double rms = 0;
      for (double x : ref) rms += x * x;
      got[got.size() / 2] += float(1.0 + 100.0 * std::sqrt(rms / double(ref.size())));
    }
    double num = 0, den = 0, max_abs = 0;
    bool finite = true;
    for (size_t i = 0; i < ref.size(); ++i) {
      if (!std::isfinite(got[i])) finite = false;
      const double d = double(got[i]) - ref[i];
      num += d * d;
      den += ref[i] * ref[i];
      max_abs = std::max(max_abs, std::abs(d));
    }
    r.error = finite ? (den > 0 ? num / den : num) : std::numeric_limits<double>::infinity();
    r.max_abs = finite ? max_abs : std::numeric_limits<double>::infinity();
    r.checked = ref.size();
    r.pass = finite && r.error <= r.tolerance;
  }

  GpuContext& gpu_;
  const SelftestOptions& o_;
  std::unique_ptr<vk::BlockAllocator> weight_alloc_;  // the current matrix (before weight_: outlives it)
  std::unique_ptr<WeightMatrix> weight_;
  uint64_t weight_key_ = 0;
};

// ---- products ----

SelftestCase Runner::Product(const ProductCase& c) {
  Session s = Begin();
  const uint32_t n = c.n_run, k = c.k, m = c.m;
  const uint64_t wseed = o_.seed * 1000003ull + uint64_t(c.dtype) * 7919 + c.n * 31ull + k;
  auto row = [&](uint32_t r, float* out) {
    for (uint32_t i = 0; i < k; ++i) out[i] = Hash(wseed, uint64_t(r) * k + i);
  };
  // The decode, batched-decode and prefill cases of a matrix follow each other: upload it once.
  const uint64_t key = wseed * 131 + n;
  if (!weight_alloc_ || weight_key_ != key) {
    weight_.reset();
    weight_alloc_.reset();  // the previous matrix's memory first
    weight_alloc_ = std::make_unique<vk::BlockAllocator>(gpu_.device(), vk::MemoryKind::kDeviceLocal, "selftest w");
    weight_ = std::make_unique<WeightMatrix>(
        UploadWeightMatrix(gpu_.device(), *weight_alloc_, gpu_.transfer(), c.dtype, n, k, row, "selftest_" + c.matrix));
    weight_key_ = key;
  }
  const WeightMatrix& w = *weight_;
  const bool pairs = c.kind == ProductCase::Kind::kGeluPairs, gelu_in = c.kind == ProductCase::Kind::kGeluMulInput;
  const uint32_t out_cols = pairs ? n / 2 : n;
  // x, or for the per-layer-input projection its gate and up inputs (gelu(gate) * up is x).
  const std::vector<float> xv = Values(size_t(m) * k, wseed + 1);
  const std::vector<float> upv = gelu_in ? Values(size_t(m) * k, wseed + 2) : std::vector<float>{};
  const Tensor x = NewTensor(s, m, k), up = NewTensor(s, m, k), y = NewTensor(s, m, out_cols);
  const Tensor gu = pairs ? NewTensor(s, m, n) : Tensor{};
  const Tensor scratch{s.alloc->Allocate(Int8ActivationsBytes(m, k)), DType::F32, 1, 1};
  Upload(x, xv);
  if (gelu_in) Upload(up, upv);
  SelftestCase r;
  // The options forward.cpp passes (Step::Opt, RecordHead).
  const MatMulOptions opt{.softcap = c.softcap,
                          .rows_as_decode = c.decode && c.matrix != "head" && c.matrix != "router",
                          .int8_scratch = scratch.slice};
  r.kernels = Run(s, [&](OpContext& ctx) {
    if (pairs && c.decode) {
      if (MatVecGeluPairs(ctx, w, x, y, opt)) return;
      MatMul(ctx, w, x, gu, opt);
      ctx.rec.ComputeToCompute();
      GeluMulPairs(ctx, gu, y);
    } else if (gelu_in) {
      if (MatVecGeluMul(ctx, w, x, up, y)) return;
      GeluMul(ctx, x, up, x);
      ctx.rec.ComputeToCompute();
      MatMul(ctx, w, x, y, opt);
    } else {
      MatMul(ctx, w, x, y, opt);
    }
  });
  const std::vector<float> got_all = Download(y);

  const bool int8 = Contains(r.kernels, "int8"), coopmat = Contains(r.kernels, "coopmat");
  r.tolerance = int8 ? kInt8ProductNmse : coopmat ? kCoopMatProductNmse : kFloatProductNmse;
  r.reference = int8      ? "f32 product of the float x (device: int8 x)"
                : coopmat ? "f32 product of f16-rounded x and weights"
                          : "f32 product of the weights' device values";
  // The reference input rows (the gelu applied on the host for the per-layer-input projection).
  std::vector<float> xr = xv;
  if (gelu_in) ref::GeluMul(xv.data(), upv.data(), xr.data(), xr.size());
  if (coopmat)
    for (float& v : xr) v = RoundTripHalf(v);
  // Outputs checked: every one where cheap, else evenly spaced columns (about 4M multiply-adds).
  const uint64_t budget = uint64_t(1) << 22;
  const uint32_t want = uint32_t(std::clamp<uint64_t>(budget / (uint64_t(m) * k * (pairs ? 2 : 1)), 128, out_cols));
  std::vector<double> ref;
  std::vector<float> got;
  std::vector<float> src(k), wr(k), wr2(k);
  auto dot = [&](const std::vector<float>& wv, uint32_t t) {
    double acc = 0;
    for (uint32_t i = 0; i < k; ++i) acc += double(wv[i]) * xr[size_t(t) * k + i];
    return acc;
  };
  auto device_row = [&](uint32_t rr, std::vector<float>& out) {
    row(rr, src.data());
    out = DeviceRowValues(c.dtype, src.data(), k);
    out.resize(k);
    if (coopmat)
      for (float& v : out) v = RoundTripHalf(v);
  };
  for (uint32_t j = 0; j < want; ++j) {
    const uint32_t col = uint32_t(uint64_t(j) * out_cols / want);
    device_row(col, wr);
    if (pairs) device_row(col + n / 2, wr2);
    for (uint32_t t = 0; t < m; ++t) {
      double v = dot(wr, t);
      if (pairs) v = double(ref::GeluTanh(float(v))) * dot(wr2, t);
      if (c.softcap > 0) v = c.softcap * std::tanh(v / c.softcap);
      ref.push_back(v);
      got.push_back(got_all[size_t(t) * out_cols + col]);
    }
  }
  Finish(r, ref, got);
  return r;
}

// ---- attention ----

SelftestCase Runner::Attention(const AttentionCase& c) {
  Session s = Begin();
  const uint32_t row = c.n_kv_heads * c.head_dim, qcols = c.n_heads * c.head_dim;
  const bool quantized = c.kv == DType::Q8_0 || c.kv == DType::Q4_0;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // One sequence per slot (decode of a batched step: each its own cache, position and scratch).
  struct Sequence {
    uint32_t start_pos;
    std::vector<float> q, k, v;  // k, v: the values the cache holds, NaN in slots no query may see
    Tensor tq, tk, tv, tout, tpos, scratch;
    AttentionShape shape;
  };
  std::vector<Sequence> seqs(c.slots);
  for (uint32_t i = 0; i < c.slots; ++i) {
    Sequence& q = seqs[i];
    q.start_pos = c.start_pos - 7 * i;
    const uint32_t last = q.start_pos + c.T - 1;
    const uint32_t first = c.window > 0 && q.start_pos + 1 > c.window ? q.start_pos + 1 - c.window : 0;
    const uint64_t seed = o_.seed * 7777ull + c.head_dim * 13ull + c.n_heads + c.T * 101ull + i * 1009ull;
    std::vector<float> k = Values(size_t(c.cache_len) * row, seed + 1), v = Values(size_t(c.cache_len) * row, seed + 2);
    if (c.k_is_v) v = k;
    std::vector<bool> used(c.cache_len, false);
    for (uint32_t j = first; j <= last; ++j) used[j % c.cache_len] = true;
    if (quantized) {
      // The cache's bytes: the host encoder's blocks (the device writers are checked against it by
      // tests/ops/attention_kv_quant_test.cpp); slots no query may see get NaN scales, so that a
      // read of one poisons the output. The reference sees the dequantized values.
      const uint64_t bytes = KvBufferBytes(c.kv, uint64_t(c.cache_len) * row, c.head_dim);
      for (Tensor* t : {&q.tk, &q.tv})
        *t = Tensor{s.alloc->Allocate(std::max<uint64_t>(16, bytes)), c.kv, c.cache_len, row};
      const uint32_t qb = KvQuantBlock(c.head_dim), blocks_per_slot = row / qb;
      const uint64_t scale_at = c.kv == DType::Q8_0 ? uint64_t(c.cache_len) * row : uint64_t(c.cache_len) * row / 2;
      for (int which = 0; which < 2; ++which) {
        std::vector<float>& x = which ? v : k;
        std::vector<uint8_t> enc = EncodeKvQuantized(c.kv, x, c.head_dim);
        RoundTripKv(c.kv, x.data(), x.size(), c.head_dim);
        for (uint32_t slot = 0; slot < c.cache_len; ++slot) {
          if (used[slot]) continue;
          for (uint32_t b = 0; b < blocks_per_slot; ++b) {
            const uint64_t at = scale_at + 2 * (uint64_t(slot) * blocks_per_slot + b);
            enc[at] = 0x00, enc[at + 1] = 0x7e;  // f16 quiet NaN
          }
          std::fill_n(x.begin() + size_t(slot) * row, row, nan);
        }
        gpu_.transfer().Upload((which ? q.tv : q.tk).slice, enc.data(), enc.size());
      }
    } else {
      for (uint32_t slot = 0; slot < c.cache_len; ++slot) {
        if (used[slot]) continue;
        std::fill_n(k.begin() + size_t(slot) * row, row, nan);
        std::fill_n(v.begin() + size_t(slot) * row, row, nan);
      }
      if (c.kv != DType::F32) {  // f16: the values the cache holds
        for (float& x : k) x = RoundTripHalf(x);
        for (float& x : v) x = RoundTripHalf(x);
      }
      q.tk = NewTensor(s, c.cache_len, row, c.kv == DType::F32 ? DType::F32 : DType::F16);
      q.tv = NewTensor(s, c.cache_len, row, c.kv == DType::F32 ? DType::F32 : DType::F16);
      Upload(q.tk, k);
      Upload(q.tv, v);
    }
    q.k = std::move(k);
    q.v = std::move(v);
    q.q = Values(size_t(c.T) * qcols, seed + 3);
    q.tq = NewTensor(s, c.T, qcols);
    q.tout = NewTensor(s, c.T, qcols);
    Upload(q.tq, q.q);
    q.shape = AttentionShape{q.start_pos, c.n_heads, c.n_kv_heads, c.head_dim, c.cache_len, c.window, 1.f};
    q.tpos = NewTensor(s, 1, 1);
    if (c.T == 1) {
      // The replayed decode step: recorded for the context's last position, run at start_pos.
      gpu_.transfer().Upload(q.tpos.slice, &q.start_pos, 4);
      q.shape.start_pos = c.context - 1;
      q.shape.position = &q.tpos.slice;
    }
    const uint64_t scratch_floats = AttentionScratchFloats(q.shape, c.T);
    if (scratch_floats) q.scratch = NewTensor(s, 1, uint32_t(scratch_floats));
  }
  SelftestCase r;
  r.kernels = Run(s, [&](OpContext& ctx) {
    for (const Sequence& q : seqs) {  // a batched step's segments, back to back (forward.cpp)
      vkg::Attention(ctx, q.tq, q.tk, c.k_is_v ? q.tk : q.tv, q.tout, q.shape,
                     q.scratch.slice.size ? &q.scratch : nullptr);
    }
  });
  const bool coopmat = Contains(r.kernels, "coopmat");
  r.tolerance = coopmat ? kCoopMatAttentionNmse : kAttentionNmse;
  const std::string cache =
      quantized ? "dequantized " + std::string(DTypeName(c.kv)) + " K, V" : std::string(DTypeName(c.kv)) + " K, V";
  r.reference = coopmat ? "f32 attention of f16-rounded q, " + cache + (c.kv != DType::F16 ? " (f16-rounded)" : "")
                        : "f32 attention of " + cache;
  std::vector<double> ref;
  std::vector<float> got;
  for (Sequence& q : seqs) {
    if (coopmat) {  // the matrix units take q, K and V in f16
      for (float& x : q.q) x = RoundTripHalf(x);
      if (c.kv != DType::F16) {
        for (float& x : q.k) x = RoundTripHalf(x);
        for (float& x : q.v) x = RoundTripHalf(x);
      }
    }
    std::vector<float> out(q.q.size());
    ref::Attention(q.q.data(), q.k.data(), q.v.data(), out.data(),
                   {.tokens = int(c.T),
                    .start_pos = int(q.start_pos),
                    .n_heads = int(c.n_heads),
                    .n_kv_heads = int(c.n_kv_heads),
                    .head_dim = int(c.head_dim),
                    .cache_len = int(c.cache_len),
                    .window = int(c.window)});
    ref.insert(ref.end(), out.begin(), out.end());
    const std::vector<float> g = Download(q.tout);
    got.insert(got.end(), g.begin(), g.end());
  }
  Finish(r, ref, got);
  return r;
}

// ---- norms ----

SelftestCase Runner::Norm(const NormCase& c, bool residual) {
  Session s = Begin();
  const size_t n = size_t(c.rows) * c.dim;
  const uint64_t seed = o_.seed * 31337ull + n;
  const float eps = 1e-6f, scale = 0.75f;
  const std::vector<float> xv = Values(n, seed + 1, -4.f, 4.f), yv = Values(n, seed + 2, -4.f, 4.f);
  const std::vector<float> w1 = Values(c.dim, seed + 3, 0.5f, 1.5f), w2 = Values(c.dim, seed + 4, 0.5f, 1.5f);
  const Tensor x = NewTensor(s, c.rows, c.dim), y = NewTensor(s, c.rows, c.dim), a = NewTensor(s, c.rows, c.dim);
  const Tensor tw1 = NewTensor(s, 1, c.dim), tw2 = NewTensor(s, 1, c.dim);
  Upload(x, xv);
  Upload(y, yv);
  Upload(tw1, w1);
  Upload(tw2, w2);
  SelftestCase r;
  r.tolerance = kNormNmse;
  r.kernels = Run(s, [&](OpContext& ctx) {
    if (residual) {
      ResidualRmsNorm(ctx, x, y, tw1, scale, tw2, a, eps);
    } else {
      RmsNorm(ctx, x, tw1, a, eps);
    }
  });
  std::vector<float> yn(n), xr(n), ar(n);
  std::vector<float> got = Download(a);
  if (residual) {
    r.reference = "x = (x + rmsnorm(y)) * scale; a = rmsnorm(x)";
    ref::RmsNorm(yv.data(), w1.data(), yn.data(), int(c.rows), int(c.dim), eps);
    ref::AddScaled(xv.data(), yn.data(), xr.data(), n, scale);
    ref::RmsNorm(xr.data(), w2.data(), ar.data(), int(c.rows), int(c.dim), eps);
    const std::vector<float> gx = Download(x);
    got.insert(got.begin(), gx.begin(), gx.end());
    ar.insert(ar.begin(), xr.begin(), xr.end());
  } else {
    r.reference = "rmsnorm(x) * w";
    ref::RmsNorm(xv.data(), w1.data(), ar.data(), int(c.rows), int(c.dim), eps);
  }
  Finish(r, std::vector<double>(ar.begin(), ar.end()), got);
  return r;
}

// ---- attention inputs ----

std::vector<SelftestCase> Runner::AttentionInputs(const AttentionInputsCase& c) {
  Session s = Begin();
  const uint32_t D = c.head_dim, qrow = c.n_heads * D, kvrow = c.n_kv_heads * D;
  const uint64_t seed = o_.seed * 4241ull + D * 7ull + c.n_heads * 3ull + c.T + c.n_kv_heads * 1009ull;
  const float eps = 1e-6f;
  // qkv rows as forward.cpp stacks them: q | k | v (no v on K=V layers, neither on KV-shared ones).
  const uint32_t v_cols = c.n_kv_heads && !c.k_is_v ? kvrow : 0;
  const uint32_t cols = qrow + kvrow + v_cols;
  const std::vector<float> qkv = Values(size_t(c.T) * cols, seed + 1, -3.f, 3.f);
  const std::vector<float> q_norm = Values(D, seed + 2, 0.5f, 1.5f), k_norm = Values(D, seed + 3, 0.5f, 1.5f);
  const std::vector<float> inv_freq = ref::RopeInvFreq(int(D), c.rope_theta, int(c.rope_pairs));
  std::vector<float> k_cache, v_cache;  // old contents: slots the step does not own must keep them
  if (c.n_kv_heads) {
    k_cache = RoundTripThrough(DType::F16, Values(size_t(c.cache_len) * kvrow, seed + 4));
    v_cache = RoundTripThrough(DType::F16, Values(size_t(c.cache_len) * kvrow, seed + 5));
  }
  const Tensor tqkv = NewTensor(s, c.T, cols), tq = NewTensor(s, c.T, qrow);
  const Tensor tqn = NewTensor(s, 1, D), tkn = NewTensor(s, 1, D), tf = NewTensor(s, 1, D / 2);
  Upload(tqkv, qkv);
  Upload(tqn, q_norm);
  Upload(tkn, k_norm);
  Upload(tf, inv_freq);
  vkg::AttentionInputs in{
      .qkv = tqkv, .q = tq, .q_norm = tqn, .n_heads = c.n_heads, .head_dim = D, .inv_freq = tf, .eps = eps};
  Tensor tkc, tvc;
  if (c.n_kv_heads) {
    tkc = NewTensor(s, c.cache_len, kvrow, DType::F16);
    tvc = NewTensor(s, c.cache_len, kvrow, DType::F16);
    Upload(tkc, k_cache);
    Upload(tvc, v_cache);
    in.k_col = qrow, in.v_col = v_cols ? qrow + kvrow : qrow;
    in.k_norm = tkn, in.k_cache = tkc, in.v_cache = tvc, in.n_kv_heads = c.n_kv_heads;
  }
  const Tensor tpos = NewTensor(s, 1, 1);
  if (c.position_buffer) {
    gpu_.transfer().Upload(tpos.slice, &c.start_pos, 4);
    in.position = &tpos.slice;
  }
  const std::string kernels = Run(s, [&](OpContext& ctx) { PrepareAttentionInputs(ctx, in, c.start_pos); });

  // Reference: the unfused sequence (docs/model.md §2.4): per-head norms, RoPE, the cache rows.
  std::vector<int32_t> pos(c.T);
  for (uint32_t t = 0; t < c.T; ++t) pos[t] = int32_t(c.start_pos + t);
  std::vector<float> q(size_t(c.T) * qrow), k(size_t(c.T) * kvrow), v(size_t(c.T) * kvrow);
  for (uint32_t t = 0; t < c.T; ++t) {
    std::copy_n(&qkv[size_t(t) * cols], qrow, &q[size_t(t) * qrow]);
    if (!c.n_kv_heads) continue;
    std::copy_n(&qkv[size_t(t) * cols + qrow], kvrow, &k[size_t(t) * kvrow]);
    std::copy_n(&qkv[size_t(t) * cols + (v_cols ? qrow + kvrow : qrow)], kvrow, &v[size_t(t) * kvrow]);
  }
  ref::RmsNorm(q.data(), q_norm.data(), q.data(), int(c.T * c.n_heads), int(D), eps);
  ref::Rope(q.data(), int(c.T), int(c.n_heads), int(D), pos.data(), inv_freq.data());
  std::vector<SelftestCase> out(1);
  out[0].kernels = kernels;
  out[0].tolerance = kInputsQNmse;
  out[0].reference = "q: rmsnorm per head, RoPE";
  Finish(out[0], std::vector<double>(q.begin(), q.end()), Download(tq));
  if (!c.n_kv_heads) return out;
  ref::RmsNorm(k.data(), k_norm.data(), k.data(), int(c.T * c.n_kv_heads), int(D), eps);
  ref::Rope(k.data(), int(c.T), int(c.n_kv_heads), int(D), pos.data(), inv_freq.data());
  ref::RmsNorm(v.data(), nullptr, v.data(), int(c.T * c.n_kv_heads), int(D), eps);
  for (uint32_t t = 0; t < c.T; ++t) {
    const size_t slot = (c.start_pos + t) % c.cache_len;
    std::copy_n(&k[size_t(t) * kvrow], kvrow, &k_cache[slot * kvrow]);
    std::copy_n(&v[size_t(t) * kvrow], kvrow, &v_cache[slot * kvrow]);
  }
  k_cache = RoundTripThrough(DType::F16, k_cache);
  v_cache = RoundTripThrough(DType::F16, v_cache);
  k_cache.insert(k_cache.end(), v_cache.begin(), v_cache.end());
  std::vector<float> got = Download(tkc);
  const std::vector<float> got_v = Download(tvc);
  got.insert(got.end(), got_v.begin(), got_v.end());
  out.emplace_back();
  out[1].kernels = kernels;
  out[1].tolerance = kInputsF16CacheNmse;
  out[1].reference = "K: rmsnorm, RoPE; V: rmsnorm; rows to f16 cache slots (whole caches compared)";
  Finish(out[1], std::vector<double>(k_cache.begin(), k_cache.end()), got);
  return out;
}

// ---- routed experts ----

std::vector<SelftestCase> Runner::Experts(const ExpertCase& c) {
  Session s = Begin();
  const uint32_t E = c.n_experts, K = c.top_k, H = c.hidden, I = c.inter, T = c.tokens, slots = T * K;
  const uint64_t seed = o_.seed * 60013ull + uint64_t(c.dtype) * 977 + T;
  std::vector<SelftestCase> out(3);

  // Router top-k over all E experts, with the per-expert scale.
  const std::vector<float> logits = Values(size_t(T) * E, seed + 1, -4.f, 4.f);
  const std::vector<float> scale = Values(E, seed + 2, 0.5f, 1.5f);
  std::vector<int32_t> ref_ids(slots);
  std::vector<float> ref_w(slots);
  ref::TopKSoftmax(logits.data(), int(T), int(E), int(K), scale.data(), ref_ids.data(), ref_w.data());
  const Tensor tl = NewTensor(s, T, E), ts = NewTensor(s, 1, E), tw = NewTensor(s, T, K);
  Upload(tl, logits);
  Upload(ts, scale);
  const vk::BufferSlice topk_ids = s.alloc->Allocate(std::max<uint64_t>(16, slots * 4));
  out[0].kernels = Run(s, [&](OpContext& ctx) { TopKSoftmax(ctx, tl, K, ts, topk_ids, tw); });
  std::vector<int32_t> got_ids(slots);
  gpu_.transfer().Download(topk_ids, got_ids.data(), slots * 4);
  out[0].tolerance = kTopKWeightsNmse;
  out[0].reference = "top-k ids (exact) and softmax weights x per-expert scale";
  Finish(out[0], std::vector<double>(ref_w.begin(), ref_w.end()), Download(tw));
  if (got_ids != ref_ids) {
    out[0].pass = false;
    out[0].error = std::numeric_limits<double>::infinity();
  }

  // The expert products route among the experts_run uploaded experts: seeded ids with repeats.
  std::vector<int32_t> ids(slots);
  for (uint32_t i = 0; i < slots; ++i)
    ids[i] = int32_t(uint32_t(Hash(seed + 3, i, 0.f, 1.f) * c.experts_run) % c.experts_run);
  const vk::BufferSlice tids = UploadIds(s, ids);
  auto product = [&](SelftestCase& r, uint32_t rows, uint32_t k, uint32_t x_div, uint64_t mseed, const char* name) {
    const Matrix m = Upload(c.dtype, c.experts_run * rows, k, mseed, name);
    const std::vector<float> xv = Values(size_t(slots / x_div) * k, mseed + 1);
    const Tensor x = NewTensor(s, slots / x_div, k), y = NewTensor(s, slots, rows);
    Upload(x, xv);
    r.kernels = Run(s, [&](OpContext& ctx) {
      MatMulExperts(ctx, m.w, {.rows_per_expert = rows, .rows = rows, .ids = tids, .n_slots = slots, .x_div = x_div}, x,
                    y);
    });
    const std::vector<float> got_all = Download(y);
    // Every slot, evenly spaced rows (about 4M multiply-adds).
    const uint32_t want = uint32_t(std::clamp<uint64_t>((uint64_t(1) << 22) / (uint64_t(slots) * k), 64, rows));
    std::vector<double> ref;
    std::vector<float> got;
    for (uint32_t sl = 0; sl < slots; ++sl)
      for (uint32_t j = 0; j < want; ++j) {
        const uint32_t rr = uint32_t(uint64_t(j) * rows / want);
        const float* w = &m.held[(size_t(ids[sl]) * rows + rr) * k];
        const float* xr = &xv[size_t(sl / x_div) * k];
        double acc = 0;
        for (uint32_t i = 0; i < k; ++i) acc += double(w[i]) * xr[i];
        ref.push_back(acc);
        got.push_back(got_all[size_t(sl) * rows + rr]);
      }
    r.tolerance = kExpertsNmse;
    r.reference = "per-slot f32 product of the routed expert's device values";
    Finish(r, ref, got);
  };
  product(out[1], 2 * I, H, K, seed + 10, "experts_gate_up");
  product(out[2], H, I, 1, seed + 20, "experts_down");
  return out;
}

// ---- embeddings ----

SelftestCase Runner::Embed(const EmbedCase& c) {
  Session s = Begin();
  const uint64_t seed = o_.seed * 15485863ull + uint64_t(c.dtype) * 31 + c.dim;
  const Matrix table = Upload(c.dtype, c.vocab_run, c.dim, seed, "embed");
  std::vector<int32_t> ids(c.tokens);
  for (uint32_t t = 0; t < c.tokens; ++t)
    ids[t] = int32_t(uint32_t(Hash(seed + 1, t, 0.f, 1.f) * c.vocab_run) % c.vocab_run);
  ids[0] = int32_t(c.vocab_run - 1);  // the last row (and, in chunks, the first and the middle one)
  if (c.tokens > 2) ids[1] = 0, ids[2] = int32_t(c.vocab_run / 2);
  const vk::BufferSlice tids = UploadIds(s, ids);
  const Tensor out = NewTensor(s, c.tokens, c.dim);
  SelftestCase r;
  r.kernels = Run(s, [&](OpContext& ctx) { vkg::Embed(ctx, table.w, tids, out, c.scale); });
  std::vector<float> ref(size_t(c.tokens) * c.dim);
  ref::Embed(table.held.data(), int(c.vocab_run), int(c.dim), ids.data(), int(c.tokens), c.scale, ref.data());
  r.tolerance = kEmbedNmse;
  r.reference = "table rows as held x scale (bit-exact)";
  Finish(r, std::vector<double>(ref.begin(), ref.end()), Download(out));
  return r;
}

SelftestCase Runner::Ple(const PleCase& c) {
  Session s = Begin();
  const uint32_t T = c.tokens, L = c.layers, P = c.dim, ple_rows = T;
  const size_t n = size_t(T) * L * P;
  const uint64_t seed = o_.seed * 7919ull + n;
  const std::vector<float> ctxv = Values(n, seed + 1, -4.f, 4.f), tok = Values(n, seed + 2);
  const std::vector<float> w = Values(P, seed + 3, 0.f, 2.f);
  const float scale = float(1.0 / std::sqrt(2.0)), eps = 1e-6f;
  const Tensor tctx = NewTensor(s, T, L * P), ttok = NewTensor(s, T, L * P), tw = NewTensor(s, 1, P);
  const Tensor tple = NewTensor(s, L * ple_rows, P);
  Upload(tctx, ctxv);
  Upload(ttok, tok);
  Upload(tw, w);
  SelftestCase r;
  r.kernels = Run(s, [&](OpContext& ctx) {
    PleNormCombine(ctx, tctx, tw, ttok, tple,
                   PleCombineShape{.n_tokens = T, .n_layers = L, .ple_rows = ple_rows, .scale = scale}, eps);
  });
  std::vector<float> normed(n), ref(n);
  ref::RmsNorm(ctxv.data(), w.data(), normed.data(), int(T * L), int(P), eps);
  for (uint32_t l = 0; l < L; ++l)
    for (uint32_t t = 0; t < T; ++t)
      for (uint32_t i = 0; i < P; ++i) {
        const size_t src = (size_t(t) * L + l) * P + i;
        ref[(size_t(l) * ple_rows + t) * P + i] = (normed[src] + tok[src]) * scale;
      }
  r.tolerance = kPleNmse;
  r.reference = "(rmsnorm(ctx per layer) + tok) * 2^-0.5, layer-major";
  Finish(r, std::vector<double>(ref.begin(), ref.end()), Download(tple));
  return r;
}

std::string Sampled(uint32_t real, uint32_t run) {
  return std::to_string(real) + (run < real ? " (" + std::to_string(run) + " run)" : "");
}

}  // namespace

bool SelftestReport::passed() const { return failed().empty() && !cases.empty(); }

std::vector<std::string> SelftestReport::failed() const {
  std::vector<std::string> f;
  for (const SelftestCase& c : cases)
    if (!c.pass) f.push_back(c.op + " [" + c.kernels + "] " + c.shape);
  return f;
}

SelftestReport RunSelftest(const SelftestOptions& o, const std::function<void(const SelftestCase&)>& on_case) {
  if (o.device == "cpu") throw Error("selftest checks a Vulkan device's kernels; --device cpu is the reference itself");
  GpuContext gpu(GpuOptions{o.device, o.validation});
  return RunSelftestOn(gpu, o, on_case);
}

SelftestReport RunSelftestOn(GpuContext& gpu, const SelftestOptions& o,
                             const std::function<void(const SelftestCase&)>& on_case) {
  const auto t0 = std::chrono::steady_clock::now();
  const int messages_before = gpu.instance().validation_message_count();
  const vk::DeviceCaps& caps = gpu.device().caps();
  SelftestReport report;
  report.device = caps.name;
  report.device_type = caps.type_name;
  report.driver = caps.driver_name + (caps.driver_info.empty() ? "" : " " + caps.driver_info);
  report.driver_version = caps.driver_version;
  report.kernels = GpuFamily(caps, o.kernels) ? "gpu" : "cpu";

  selftest::PlanOptions po;
  po.quick = o.quick;
  po.gpu_device = caps.type != VK_PHYSICAL_DEVICE_TYPE_CPU;
  po.formats = o.formats;
  if (!o.kv_formats.empty()) po.kv_formats = o.kv_formats;
  if (po.formats.empty())
    po.formats = o.quick ? std::vector<DType>{DType::Q4_0} : std::vector<DType>{DType::Q4_0, DType::Q8_0, DType::BF16};
  selftest::Plan plan;
  if (!o.models.empty()) {
    for (const auto& [name, config] : o.models) selftest::AddModel(plan, name, config, po);
  } else {
    for (const std::string& name : o.shapes.empty() ? ShapeNames() : o.shapes)
      selftest::AddModel(plan, name, ShapeConfig(name), po);
  }

  Runner run(gpu, o);
  auto case_start = std::chrono::steady_clock::now();
  auto add = [&](SelftestCase r, const std::string& op, const std::string& shape,
                 const std::vector<std::string>& models) {
    r.op = op;
    r.shape = shape;
    r.models = Join(models, ",");
    const auto now = std::chrono::steady_clock::now();
    r.seconds = std::chrono::duration<double>(now - case_start).count();
    case_start = now;
    report.cases.push_back(r);
    if (on_case) on_case(report.cases.back());
  };
  const auto wanted = [&](const std::string& op) { return o.ops.empty() || Contains(op, o.ops.c_str()); };
  for (const auto& p : plan.products) {
    const ProductCase& c = p.c;
    const char* op = c.kind == ProductCase::Kind::kGeluPairs      ? "decode product + gelu pairs"
                     : c.kind == ProductCase::Kind::kGeluMulInput ? "decode product of gelu(gate)*up"
                     : c.decode                                   ? "decode product"
                                                                  : "prefill product";
    const std::string shape = std::string(DTypeName(c.dtype)) + " " + c.matrix + " N=" + Sampled(c.n, c.n_run) +
                              " K=" + std::to_string(c.k) + " M=" + std::to_string(c.m) +
                              (c.decode && c.m > 1 ? " (batched decode)" : "") + (c.softcap > 0 ? " softcap" : "");
    if (wanted(op)) add(run.Product(c), op, shape, p.models);
  }
  for (const auto& a : plan.attention) {
    const AttentionCase& c = a.c;
    const std::string shape =
        std::string(DTypeName(c.kv)) + " cache T=" + std::to_string(c.T) + " pos=" + std::to_string(c.start_pos) +
        (c.slots > 1 ? " (" + std::to_string(c.slots) + " sequences, -7 each)" : "") +
        " heads=" + std::to_string(c.n_heads) + "/" + std::to_string(c.n_kv_heads) +
        " D=" + std::to_string(c.head_dim) +
        (c.window ? " window=" + std::to_string(c.window) + " ring=" + std::to_string(c.cache_len) : " full") +
        (c.k_is_v ? " K=V" : "") + (c.T == 1 ? " planned@" + std::to_string(c.context - 1) : "");
    const char* op = c.T > 1 ? "prefill attention" : c.slots > 1 ? "batched decode attention" : "decode attention";
    if (wanted(op)) add(run.Attention(c), op, shape, a.models);
  }
  // The attention-inputs cases check the kernel writing an f16 cache (its q8_0 / q4_0 writes are
  // checked through whole models, tests/model_gpu/kv_quant_model_test.cpp, not here yet): they run
  // only when f16 is among the cache formats, so `--kv q8_0` runs what it names.
  const bool f16_cache = std::find(po.kv_formats.begin(), po.kv_formats.end(), DType::F16) != po.kv_formats.end();
  for (const auto& e : plan.attention_inputs) {
    if (!wanted("attention inputs") || !f16_cache) continue;
    const AttentionInputsCase& c = e.c;
    const std::string shape = "T=" + std::to_string(c.T) + " pos=" + std::to_string(c.start_pos) +
                              " heads=" + std::to_string(c.n_heads) + "/" + std::to_string(c.n_kv_heads) +
                              " D=" + std::to_string(c.head_dim) + " pairs=" + std::to_string(c.rope_pairs) +
                              (c.n_kv_heads ? " ring=" + std::to_string(c.cache_len) : " KV-shared") +
                              (c.k_is_v && c.n_kv_heads ? " K=V" : "") + (c.position_buffer ? " position buffer" : "");
    const std::vector<SelftestCase> r = run.AttentionInputs(c);
    add(r[0], "attention inputs (q)", shape, e.models);
    if (r.size() > 1) add(r[1], "attention inputs (K/V cache)", shape, e.models);
  }
  for (const auto& e : plan.experts) {
    if (!wanted("router top-k") && !wanted("expert product")) continue;
    const ExpertCase& c = e.c;
    const std::string base = std::string(DTypeName(c.dtype)) + " E=" + Sampled(c.n_experts, c.experts_run) +
                             " top_k=" + std::to_string(c.top_k) + " T=" + std::to_string(c.tokens);
    const std::vector<SelftestCase> r = run.Experts(c);
    add(r[0], "router top-k",
        "E=" + std::to_string(c.n_experts) + " top_k=" + std::to_string(c.top_k) + " T=" + std::to_string(c.tokens),
        e.models);
    add(r[1], "expert product gate|up", base + " N=" + std::to_string(2 * c.inter) + " K=" + std::to_string(c.hidden),
        e.models);
    add(r[2], "expert product down", base + " N=" + std::to_string(c.hidden) + " K=" + std::to_string(c.inter),
        e.models);
  }
  for (const auto& e : plan.embeds) {
    if (!wanted("embedding gather")) continue;
    const EmbedCase& c = e.c;
    add(run.Embed(c), "embedding gather",
        std::string(DTypeName(c.dtype)) + " vocab=" + Sampled(c.vocab, c.vocab_run) + " dim=" + std::to_string(c.dim) +
            " T=" + std::to_string(c.tokens),
        e.models);
  }
  for (const auto& e : plan.ples) {
    if (!wanted("per-layer inputs norm + combine")) continue;
    const PleCase& c = e.c;
    add(run.Ple(c), "per-layer inputs norm + combine",
        "T=" + std::to_string(c.tokens) + " layers=" + std::to_string(c.layers) + " P=" + std::to_string(c.dim),
        e.models);
  }
  for (const auto& nm : plan.norms) {
    const std::string shape = "rows=" + std::to_string(nm.c.rows) + " dim=" + std::to_string(nm.c.dim);
    if (wanted("rms norm")) add(run.Norm(nm.c, false), "rms norm", shape, nm.models);
    if (wanted("residual norm")) add(run.Norm(nm.c, true), "residual norm", shape, nm.models);
  }
  const int messages = gpu.instance().validation_message_count() - messages_before;
  if (messages > 0) {
    SelftestCase v;
    v.op = "validation";
    v.kernels = "(all)";
    v.shape = std::to_string(messages) + " Vulkan validation messages";
    v.error = messages;
    add(v, v.op, v.shape, {});
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace vkg
