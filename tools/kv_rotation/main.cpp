// vkg_kv_rotation MODEL [--tokens N] [--seed S]: does a Hadamard rotation of K and V before
// quantizing lower the KV cache's error? Runs the CPU reference (host/reference) over one seeded
// prompt with an f32 cache, then q8_0 and q4_0 caches without and with the rotation (each head
// rotated by the orthonormal Walsh-Hadamard transform, quantized, rotated back: exactly what a
// rotated cache holds, as q.k and P.V are unchanged by an orthonormal rotation of both sides), and
// prints mean / max KL and top-1 agreement of each against the f32 cache (tools/logit_kl).
// README "KV cache formats" holds the measured table and the decision.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <random>
#include <string>
#include <vector>

#include "host/model/checkpoint.h"
#include "host/reference/ref_model.h"
#include "tools/logit_kl/logit_kl.h"

int main(int argc, char** argv) {
  std::string model;
  int n_tokens = 256;
  unsigned seed = 7;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--tokens" || a == "--seed") && i + 1 < argc) {
      const long v = std::strtol(argv[++i], nullptr, 10);
      if (v <= 0) {
        std::fprintf(stderr, "error: %s needs a positive integer\n", a.c_str());
        return 2;
      }
      if (a == "--tokens") {
        n_tokens = int(v);
      } else {
        seed = unsigned(v);
      }
    } else if (a == "-h" || a == "--help") {
      std::printf("usage: vkg_kv_rotation MODEL [--tokens N] [--seed S]\n");
      return 0;
    } else if (model.empty() && !a.empty() && a[0] != '-') {
      model = a;
    } else {
      std::fprintf(stderr, "error: unexpected argument '%s'\nusage: vkg_kv_rotation MODEL [--tokens N] [--seed S]\n",
                   a.c_str());
      return 2;
    }
  }
  if (model.empty()) {
    std::fprintf(stderr, "error: no model\nusage: vkg_kv_rotation MODEL [--tokens N] [--seed S]\n");
    return 2;
  }
  try {
    const vkg::Checkpoint ckpt = vkg::Checkpoint::Load(model);
    const vkg::ref::Model m(ckpt);
    const int vocab = ckpt.config().vocab_size;
    std::mt19937 rng(seed);
    std::vector<int32_t> tokens(static_cast<size_t>(n_tokens));
    for (int32_t& t : tokens) t = int32_t(2 + rng() % uint32_t(vocab - 2));
    const auto run = [&](vkg::DType t, bool rotate) {
      vkg::ref::KvCache cache(ckpt.config(), t, rotate);
      return m.Forward(tokens, 0, cache);
    };
    const std::vector<float> ref = run(vkg::DType::F32, false);
    std::printf("| --kv | rotation | positions | mean KL | max KL | top-1 agree |\n|---|---|---:|---:|---:|---:|\n");
    for (vkg::DType t : {vkg::DType::Q8_0, vkg::DType::Q4_0}) {
      for (bool rotate : {false, true}) {
        const vkg::tools::LogitDivergence d = vkg::tools::CompareLogits(ref, run(t, rotate), size_t(vocab));
        std::printf("| %s | %s | %zu | %.3g | %.3g | %.4f |\n", t == vkg::DType::Q8_0 ? "q8_0" : "q4_0",
                    rotate ? "Hadamard" : "none", d.positions, d.mean_kl, d.max_kl, d.top1_agreement);
        std::fflush(stdout);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
