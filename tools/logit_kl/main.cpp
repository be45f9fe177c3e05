// vkg_logit_kl REFERENCE TEST --vocab N [--json]: KL divergence of TEST's next-token distributions
// from REFERENCE's, both `vkgemma logits --out` files of the same tokens (tools/kl_by_format.sh
// runs it for every weight format against the bf16 model).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>

#include "tools/logit_kl/logit_kl.h"

namespace {

constexpr const char* kUsage =
    "usage: vkg_logit_kl REFERENCE.f32 TEST.f32 --vocab N [--json | --row NAME]\n"
    "Both files: `vkgemma logits --out` of the same tokens (float32 [positions][vocab]). Prints the\n"
    "mean, median, 99th-percentile and largest KL(reference || test) over positions in nats, the\n"
    "fraction of positions whose top token agrees, and the RMS logit difference; --json as one JSON\n"
    "object, --row NAME as a Markdown table row (tools/kl_by_format.sh).\n";

int Usage(const std::string& message) {
  std::fprintf(stderr, "error: %s\n%s", message.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string files[2];
  int n_files = 0;
  long vocab = -1;
  bool json = false;
  std::string row;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("%s", kUsage);
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--row") {
      if (i + 1 >= argc) return Usage("--row needs a name");
      row = argv[++i];
    } else if (a == "--vocab") {
      if (i + 1 >= argc) return Usage("--vocab needs a value");
      char* end = nullptr;
      vocab = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || vocab <= 0)
        return Usage(std::string("--vocab needs a positive integer, got '") + argv[i] + "'");
    } else if (!a.empty() && a[0] == '-') {
      return Usage("unknown option '" + a + "'");
    } else if (n_files < 2) {
      files[n_files++] = a;
    } else {
      return Usage("expected two files, got a third: '" + a + "'");
    }
  }
  if (n_files != 2) return Usage("expected two logits files (reference, test)");
  if (vocab < 0) return Usage("--vocab is required");
  try {
    const auto ref = vkg::tools::ReadFloat32File(files[0]);
    const auto test = vkg::tools::ReadFloat32File(files[1]);
    const auto d = vkg::tools::CompareLogits(ref, test, size_t(vocab));
    if (json) {
      const nlohmann::json j = {{"positions", d.positions},
                                {"mean_kl", d.mean_kl},
                                {"median_kl", d.median_kl},
                                {"p99_kl", d.p99_kl},
                                {"max_kl", d.max_kl},
                                {"top1_agreement", d.top1_agreement},
                                {"rms_logit_diff", d.rms_logit_diff}};
      std::printf("%s\n", j.dump().c_str());
    } else if (!row.empty()) {
      std::printf("| %s | %zu | %.3g | %.3g | %.3g | %.3g | %.1f%% |\n", row.c_str(), d.positions, d.mean_kl,
                  d.median_kl, d.p99_kl, d.max_kl, 100.0 * d.top1_agreement);
    } else {
      std::printf(
          "positions %zu  KL mean %.6g  median %.6g  p99 %.6g  max %.6g nats  top-1 agree %.2f%%  "
          "RMS logit diff %.6g\n",
          d.positions, d.mean_kl, d.median_kl, d.p99_kl, d.max_kl, 100.0 * d.top1_agreement, d.rms_logit_diff);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
