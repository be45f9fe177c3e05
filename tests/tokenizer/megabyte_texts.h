// The two 1 MB texts that the tokenizer test round-trips and bench/tokenizer times: the parity
// corpus repeated (many repeated words) and seeded random words over a mixed-script alphabet (few).
#pragma once
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vkg::test {

// `cases`: tests/data/tokenizer/expected.json's "cases" (objects with a "text").
inline std::vector<std::string> MegabyteTexts(const nlohmann::json& cases) {
  std::string corpus_text;
  for (size_t i = 0; corpus_text.size() < (1u << 20); ++i) {
    corpus_text += cases[i % cases.size()]["text"].get<std::string>();
    corpus_text += i % 7 ? " " : "\n";
  }
  std::mt19937 rng(1234);
  const std::vector<std::string> alphabet = {"a", "e", "i", "o", "u",  "n",  "r",  "s", "t", "l", "k", "z",
                                             "é", "ж", "д", "λ", "中", "文", "字", "😀", "1", "7", ".", ","};
  std::string random_text;
  while (random_text.size() < (1u << 20)) {
    const int len = 1 + static_cast<int>(rng() % 12);
    for (int k = 0; k < len; ++k) random_text += alphabet[rng() % alphabet.size()];
    random_text += rng() % 9 ? " " : "\n";
  }
  return {corpus_text, random_text};
}

}  // namespace vkg::test
