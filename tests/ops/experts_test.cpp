// MatMulExperts and MoeCombine on the device. MatMulExperts against ref::MatMul run per slot on the
// slot's expert rows: every weight dtype, Gemma 4 26B-A4B's expert shapes in miniature (the
// gate_up stack [E][2I][H] read as its gate half and its up half, the down stack [E][H][I] with one
// x row per slot), awkward K and rows, 1 and 5 tokens, repeated expert ids, expert rows straddling
// weight chunks, out-of-range ids; MoeCombine against a plain loop.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "host/device/weight_matrix.h"
#include "host/formats/dtype.h"
#include "host/ops/experts.h"
#include "host/reference/ref_ops.h"
#include "tests/test_util.h"
#include "vk/check.h"

namespace vkg::test {
namespace {

// NMSE threshold, for every dtype: the same argument as tests/ops/matmul_test.cpp. The reference
// is fed the values the device holds (DeviceRowValues: rounding to f16/bf16 is exact back in f32,
// q * d is exact in f32) and the same f32 x, and accumulates in double; the device's only error is
// its f32 accumulation order, NMSE ~ 1e-14..1e-12 at these K. 1e-10 keeps two orders of margin and
// still catches every real bug: a wrong expert, row offset, chunk clamp or x row gives NMSE ~ 1.
// K-quants and Q4_1 / Q5_0 / Q5_1 / Q2_K / Q3_K: the same; their bias is folded as bias * sum(x)
// per texel, or there is none (Q6_K, Q3_K, Q2_K's decoded values): matmul_test.cpp's note.
constexpr double kNmse = 1e-10;

const std::vector<DType> kAllTypes = AllWeightFormats();

constexpr uint32_t kExperts = 8, kTopK = 2;

struct Shape {
  uint32_t h, i;  // hidden size (K of gate_up, rows of down) and expert intermediate size
};

// A stacked expert weight on the device and the values it holds, row-major.
struct Stack {
  WeightMatrix w;
  std::vector<float> rounded;
};

class ExpertsTest : public GpuTest {
 protected:
  Stack MakeStack(DType t, uint32_t rows, uint32_t k, uint32_t seed, const std::string& name,
                  uint64_t max_chunk_bytes = 0) {
    const std::vector<float> v = RandomVector(size_t(rows) * k, seed);
    Stack s;
    s.rounded.resize(v.size());
    for (uint32_t r = 0; r < rows; ++r) {
      const std::vector<float> d = DeviceRowValues(t, &v[size_t(r) * k], k);
      std::copy(d.begin(), d.begin() + k, s.rounded.begin() + size_t(r) * k);
    }
    s.w = UploadWeightMatrix(
        gpu().device(), alloc(), gpu().transfer(), t, rows, k,
        [&](uint32_t r, float* out) { std::copy_n(&v[size_t(r) * k], k, out); }, name, max_chunk_bytes);
    return s;
  }

  vk::BufferSlice UploadIds(const std::vector<int32_t>& ids) {
    const vk::BufferSlice s = alloc().Allocate(ids.size() * 4);
    UploadRaw(s, ids.data(), ids.size() * 4);
    return s;
  }

  // Reference: y[s][r] = sum_k W[ids[s] * rpe + row_begin + r][k] * x[s / x_div][k]; ids outside
  // [0, E) give zeros.
  static std::vector<float> Reference(const Stack& st, uint32_t rpe, uint32_t row_begin, uint32_t rows,
                                      const std::vector<int32_t>& ids, const std::vector<float>& x, uint32_t x_div) {
    const uint32_t k = st.w.cols, e = st.w.rows / rpe;
    std::vector<float> y(ids.size() * rows, 0.f);
    for (size_t s = 0; s < ids.size(); ++s) {
      if (ids[s] < 0 || uint32_t(ids[s]) >= e) continue;
      const float* w = &st.rounded[(size_t(ids[s]) * rpe + row_begin) * k];
      ref::MatMul(w, &x[(s / x_div) * k], &y[s * rows], 1, int(rows), int(k));
    }
    return y;
  }

  // The kernel family the products run with (tests run the device's and the GPU one).
  KernelFamily family_ = KernelFamily::kDevice;

  // One expert product on the device against the reference; returns the NMSE.
  double CheckOne(const Stack& st, uint32_t rpe, uint32_t row_begin, uint32_t rows, const std::vector<int32_t>& ids,
                  const std::vector<float>& xv, uint32_t x_div, const std::string& what) {
    const uint32_t n_slots = uint32_t(ids.size());
    const Tensor x = NewTensor(n_slots / x_div, st.w.cols), y = NewTensor(n_slots, rows);
    Upload(x, xv);
    const vk::BufferSlice id_slice = UploadIds(ids);
    Run([&](OpContext& ctx) {
      ctx.kernels = family_;
      MatMulExperts(ctx, st.w, {rpe, row_begin, rows, id_slice, n_slots, x_div}, x, y);
    });
    const std::vector<float> got = Download(y);
    const std::vector<float> ref = Reference(st, rpe, row_begin, rows, ids, xv, x_div);
    ExpectClose(ref, got, kNmse, what.c_str());
    return Compare(ref, got).nmse;
  }

  // The expert block of a MoE layer, T tokens: gate and up halves of the gate_up stack (x shared by
  // a token's top_k slots), then the down stack (one x row per slot). Returns the worst NMSE.
  double CheckLayer(DType t, Shape sh, uint32_t tokens, uint64_t max_chunk_bytes, size_t* min_chunks = nullptr) {
    const std::string dt(DTypeName(t));
    const Stack gate_up = MakeStack(t, kExperts * 2 * sh.i, sh.h, 300 + sh.h, "gate_up_" + dt, max_chunk_bytes);
    const Stack down = MakeStack(t, kExperts * sh.h, sh.i, 400 + sh.i, "down_" + dt, max_chunk_bytes);
    if (min_chunks) *min_chunks = std::min(gate_up.w.chunks.size(), down.w.chunks.size());
    // Ids: random choices with repeats across tokens and slots; expert 7 (the last rows of the
    // stack) and expert 0 always appear.
    const uint32_t slots = tokens * kTopK;
    std::vector<int32_t> ids(slots);
    const std::vector<float> r = RandomVector(slots, 500 + tokens, 0.f, float(kExperts));
    for (uint32_t s = 0; s < slots; ++s) ids[s] = std::min<int32_t>(int32_t(r[s]), kExperts - 1);
    ids[0] = kExperts - 1;
    if (slots > 1) ids[slots - 1] = 0;
    if (slots > 3) ids[3] = ids[0];  // the same expert for two tokens
    const std::string tag = dt + " H=" + std::to_string(sh.h) + " I=" + std::to_string(sh.i) +
                            " T=" + std::to_string(tokens) + (max_chunk_bytes ? " chunked" : "");
    const std::vector<float> u = RandomVector(size_t(tokens) * sh.h, 600 + tokens);
    double worst = CheckOne(gate_up, 2 * sh.i, 0, sh.i, ids, u, kTopK, tag + " gate");
    worst = std::max(worst, CheckOne(gate_up, 2 * sh.i, sh.i, sh.i, ids, u, kTopK, tag + " up"));
    const std::vector<float> g = RandomVector(size_t(slots) * sh.i, 700 + tokens);
    worst = std::max(worst, CheckOne(down, sh.h, 0, sh.h, ids, g, 1, tag + " down"));
    return worst;
  }
};

// ---- every dtype x shapes x tokens ----

class ExpertsShapes : public ExpertsTest, public ::testing::WithParamInterface<std::tuple<DType, Shape, uint32_t>> {};

TEST_P(ExpertsShapes, MatchesReference) {
  const auto [t, sh, tokens] = GetParam();
  for (KernelFamily f : {KernelFamily::kDevice, KernelFamily::kGpu}) {
    family_ = f;
    const double nmse = CheckLayer(t, sh, tokens, 0);
    std::printf("  %s H=%u I=%u T=%u%s: worst NMSE %.3g\n", std::string(DTypeName(t)).c_str(), sh.h, sh.i, tokens,
                f == KernelFamily::kGpu ? " (GPU family)" : "", nmse);
  }
}

// H = 45 / I = 27: K and rows not multiples of 4, 32 or any row block (padded rows, x never read
// past K); H = 128 / I = 72: aligned K with rows spanning two 64-row workgroups of the down stack.
INSTANTIATE_TEST_SUITE_P(All, ExpertsShapes,
                         ::testing::Combine(::testing::ValuesIn(kAllTypes),
                                            ::testing::Values(Shape{45, 27}, Shape{128, 72}),
                                            ::testing::Values(1u, 5u)),
                         [](const auto& info) {
                           const Shape sh = std::get<1>(info.param);
                           return std::string(DTypeName(std::get<0>(info.param))) + "_H" + std::to_string(sh.h) + "_I" +
                                  std::to_string(sh.i) + "_T" + std::to_string(std::get<2>(info.param));
                         });

// ---- chunk split: 7 rows per chunk, so experts' rows (54 and 45 per expert) straddle chunks ----

class ExpertsChunks : public ExpertsTest, public ::testing::WithParamInterface<DType> {};

TEST_P(ExpertsChunks, SplitRowsMatchReference) {
  const DType t = GetParam();
  const Shape sh{45, 27};
  // The data bytes of 7 rows of the wider stack (+ a few spare bytes): chunk boundaries fall at
  // no multiple of 8 or 16 rows, nor of an expert's 54 (gate_up) or 45 (down) rows.
  const uint64_t max_chunk = WeightRowBytes(t, PaddedCols(t, 64)) * 7 + 9;
  for (uint32_t tokens : {1u, 5u, 2u}) {
    family_ = tokens == 2u ? KernelFamily::kGpu : KernelFamily::kDevice;  // T = 2: the GPU family
    size_t chunks = 0;
    const double nmse = CheckLayer(t, sh, tokens, max_chunk, &chunks);
    EXPECT_GE(chunks, 8u);
    std::printf("  %s chunked T=%u (>= %zu chunks): worst NMSE %.3g\n", std::string(DTypeName(t)).c_str(), tokens,
                chunks, nmse);
  }
}

INSTANTIATE_TEST_SUITE_P(All, ExpertsChunks, ::testing::ValuesIn(kAllTypes),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

// ---- ids outside [0, E) give zero rows, in one chunk or several ----

TEST_F(ExpertsTest, OutOfRangeIdsGiveZeros) {
  for (uint64_t max_chunk : {uint64_t(0), WeightRowBytes(DType::Q4_0, 64) * 5}) {
    const Stack st = MakeStack(DType::Q4_0, kExperts * 20, 64, 11, "oob_q4_0", max_chunk);
    const std::vector<int32_t> ids = {3, -1, int32_t(kExperts), 7, 0, -100000};
    const std::vector<float> x = RandomVector(size_t(ids.size()) * 64, 12);
    CheckOne(st, 20, 4, 13, ids, x, 1, max_chunk ? "out-of-range ids, chunked" : "out-of-range ids");
  }
}

// ---- argument validation names the weight ----

TEST_F(ExpertsTest, RejectsBadArguments) {
  const Stack st = MakeStack(DType::F16, kExperts * 16, 32, 5, "w_experts_f16");
  const vk::BufferSlice ids = UploadIds({0, 1, 2, 3});
  const Tensor x = NewTensor(2, 32), y = NewTensor(4, 8), x_bad = NewTensor(2, 31), y_bad = NewTensor(4, 9);
  const auto expect_error = [&](const std::function<void(OpContext&)>& body, const char* what) {
    try {
      Run(body);
      ADD_FAILURE() << "expected an error: " << what;
    } catch (const vk::Error& e) {
      EXPECT_NE(std::string(e.what()).find("w_experts_f16"), std::string::npos) << what << ": " << e.what();
    }
  };
  const ExpertRows good{.rows_per_expert = 16, .rows = 8, .ids = ids, .n_slots = 4, .x_div = 2};
  ExpertRows past = good, not_stack = good, one_slot_per_x = good, short_ids = good;
  past.row_begin = 10;
  not_stack.rows_per_expert = 15;
  one_slot_per_x.x_div = 1;
  short_ids.ids = ids.Sub(0, 12);
  expect_error([&](OpContext& c) { MatMulExperts(c, st.w, good, x_bad, y); }, "x columns");
  expect_error([&](OpContext& c) { MatMulExperts(c, st.w, good, x, y_bad); }, "y columns");
  expect_error([&](OpContext& c) { MatMulExperts(c, st.w, past, x, y); }, "rows past the expert");
  expect_error([&](OpContext& c) { MatMulExperts(c, st.w, not_stack, x, y); }, "not a stack");
  expect_error([&](OpContext& c) { MatMulExperts(c, st.w, one_slot_per_x, x, y); }, "x rows");
  expect_error([&](OpContext& c) { MatMulExperts(c, st.w, short_ids, x, y); }, "ids size");
  // The same arguments, valid, run.
  Run([&](OpContext& c) { MatMulExperts(c, st.w, good, x, y); });
}

// ---- MoeCombine: out[t][i] = sum_j weights[t][j] * expert_out[t * top_k + j][i] ----

TEST_F(ExpertsTest, MoeCombineMatchesLoop) {
  for (uint32_t tokens : {1u, 5u}) {
    const uint32_t top_k = 8, h = 45;
    const std::vector<float> eo = RandomVector(size_t(tokens) * top_k * h, 31 + tokens);
    const std::vector<float> wts = RandomVector(size_t(tokens) * top_k, 32 + tokens, 0.f, 1.f);
    const Tensor teo = NewTensor(tokens * top_k, h), tw = NewTensor(tokens, top_k), out = NewTensor(tokens, h);
    Upload(teo, eo);
    Upload(tw, wts);
    Run([&](OpContext& ctx) { MoeCombine(ctx, teo, tw, out); });
    std::vector<float> ref(size_t(tokens) * h);
    for (uint32_t t = 0; t < tokens; ++t) {
      for (uint32_t i = 0; i < h; ++i) {
        double acc = 0;
        for (uint32_t j = 0; j < top_k; ++j) acc += double(wts[t * top_k + j]) * eo[(size_t(t) * top_k + j) * h + i];
        ref[size_t(t) * h + i] = float(acc);
      }
    }
    // 8 f32 products and sums against a double sum: NMSE ~ 1e-15; 1e-12 as for TopKSoftmax.
    ExpectClose(ref, Download(out), 1e-12, ("MoeCombine T=" + std::to_string(tokens)).c_str());
  }
}

}  // namespace
}  // namespace vkg::test
