// The audio tower's shaders on the device against the CPU reference's steps
// (host/reference/audio_tower.h): the subsampling conv + LayerNorm + ReLU, the local attention with
// relative positions and logit cap, GLU + depthwise causal conv, and bias / SiLU, each in both
// kernel families (the ops have one variant; the families must both reach it).
#include <cmath>

#include "host/ops/audio.h"
#include "host/reference/audio_tower.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

constexpr double kNmse = 1e-11;  // f32 sums in another order, exp / tanh: a few ulp per value
constexpr KernelFamily kFamilies[] = {KernelFamily::kCpu, KernelFamily::kGpu};

const char* Name(KernelFamily f) { return f == KernelFamily::kGpu ? "gpu kernels" : "cpu kernels"; }

class AudioOpsTest : public GpuTest {};

// Both subsampling layers' shapes: 1 -> 16 channels on an odd frame count, then 16 -> 4.
TEST_F(AudioOpsTest, ConvNormRelu) {
  struct Case {
    int t, f, cin, cout;
  };
  for (const Case c : {Case{13, 128, 1, 16}, Case{7, 64, 16, 4}, Case{2, 9, 128, 70}}) {
    const auto in = RandomVector(size_t(c.t) * c.f * c.cin, 11, -3.f, 3.f);
    const auto w = RandomVector(size_t(c.cout) * c.cin * 9, 12, -0.5f, 0.5f);
    const auto norm = RandomVector(size_t(c.cout), 13, 0.5f, 1.5f);
    const std::vector<float> ref = ref::AudioConvNormRelu(in, c.t, c.f, c.cin, w, norm, c.cout, 1e-6f);
    const uint32_t to = uint32_t((c.t - 1) / 2 + 1), fo = uint32_t((c.f - 1) / 2 + 1);
    const Tensor ti = NewTensor(uint32_t(c.t * c.f), uint32_t(c.cin)),
                 tw = NewTensor(uint32_t(c.cout), uint32_t(c.cin * 9));
    const Tensor tn = NewTensor(1, uint32_t(c.cout)), tout = NewTensor(to * fo, uint32_t(c.cout));
    Upload(ti, in);
    Upload(tw, w);
    Upload(tn, norm);
    for (KernelFamily f : kFamilies) {
      Upload(tout, std::vector<float>(ref.size(), -7.f));
      Run(
          [&](OpContext& ctx) {
            AudioConvNorm(ctx, ti, uint32_t(c.t), uint32_t(c.f), uint32_t(c.cin), tw, tn, uint32_t(c.cout), 1e-6f,
                          tout);
          },
          f);
      ExpectClose(ref, Download(tout), kNmse, Name(f));
    }
  }
}

// Fewer tokens than the window (the first queries see fewer keys), more than two windows, two heads
// of 16 and one of 128 (the 64 invocations loop over the head); logits large enough to reach the cap.
TEST_F(AudioOpsTest, LocalAttention) {
  struct Case {
    int T, heads, D, W;
  };
  for (const Case c : {Case{5, 2, 16, 12}, Case{30, 2, 16, 12}, Case{17, 1, 128, 12}}) {
    const size_t n = size_t(c.T) * c.heads * c.D;
    const auto q = RandomVector(n, 21, -3.f, 3.f), k = RandomVector(n, 22, -3.f, 3.f),
               v = RandomVector(n, 23, -1.f, 1.f);
    const auto rel = RandomVector(size_t(c.W) * c.heads * c.D, 24, -1.f, 1.f);
    const auto qs = RandomVector(size_t(c.D), 25, 0.5f, 4.f);
    const float k_scale = 1.9f, cap = 50.f;
    const std::vector<float> ref = ref::AudioLocalAttention(q, k, v, rel, qs, c.T, c.heads, c.D, c.W, k_scale, cap);
    const uint32_t rows = uint32_t(c.T), cols = uint32_t(c.heads * c.D);
    const Tensor tq = NewTensor(rows, cols), tk = NewTensor(rows, cols), tv = NewTensor(rows, cols);
    const Tensor trel = NewTensor(uint32_t(c.W), cols), tqs = NewTensor(1, uint32_t(c.D)), tout = NewTensor(rows, cols);
    Upload(tq, q);
    Upload(tk, k);
    Upload(tv, v);
    Upload(trel, rel);
    Upload(tqs, qs);
    for (KernelFamily f : kFamilies) {
      Upload(tout, std::vector<float>(ref.size(), -7.f));
      Run(
          [&](OpContext& ctx) {
            AudioAttention(ctx, tq, tk, tv, trel, tqs, uint32_t(c.heads), uint32_t(c.D), k_scale, cap, tout);
          },
          f);
      ExpectClose(ref, Download(tout), kNmse, Name(f));
    }
  }
}

TEST_F(AudioOpsTest, GluDepthwiseConv) {
  const int T = 9, H = 40, K = 5;
  const auto s = RandomVector(size_t(T) * 2 * H, 31, -4.f, 4.f), w = RandomVector(size_t(H) * K, 32, -1.f, 1.f);
  const std::vector<float> ref = ref::AudioGluConv(s, w, T, H, K);
  const Tensor ts = NewTensor(uint32_t(T), uint32_t(2 * H)), tw = NewTensor(uint32_t(H), uint32_t(K));
  const Tensor tout = NewTensor(uint32_t(T), uint32_t(H));
  Upload(ts, s);
  Upload(tw, w);
  for (KernelFamily f : kFamilies) {
    Upload(tout, std::vector<float>(ref.size(), -7.f));
    Run([&](OpContext& ctx) { AudioGluConv(ctx, ts, tw, uint32_t(K), tout); }, f);
    ExpectClose(ref, Download(tout), kNmse, Name(f));
  }
}

TEST_F(AudioOpsTest, BiasAndSilu) {
  const uint32_t rows = 7, cols = 45;
  const auto x = RandomVector(size_t(rows) * cols, 41, -30.f, 30.f), bias = RandomVector(cols, 42, -2.f, 2.f);
  for (KernelFamily f : kFamilies) {
    for (const bool with_bias : {false, true}) {
      for (const bool silu : {false, true}) {
        std::vector<float> ref(x);
        for (size_t i = 0; i < ref.size(); ++i) {
          if (with_bias) ref[i] += bias[i % cols];
          if (silu) ref[i] = ref::Silu(ref[i]);
        }
        const Tensor tx = NewTensor(rows, cols), tb = NewTensor(1, cols);
        Upload(tx, x);
        Upload(tb, bias);
        Run([&](OpContext& ctx) { BiasAct(ctx, tx, with_bias ? tb : Tensor{}, silu); }, f);
        ExpectClose(ref, Download(tx), kNmse, Name(f));
      }
    }
  }
}

}  // namespace
}  // namespace vkg::test
