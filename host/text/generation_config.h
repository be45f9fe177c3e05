// Generation defaults of a checkpoint: generation_config.json (optional) with Gemma 4's defaults
// for anything it does not set (docs/model.md §1.2) (layer: host/text).
#pragma once
#include <cstdint>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace vkg {

struct GenerationConfig {
  // Generation stops at any of these ids (the file's eos_token_id, an int or a list).
  std::vector<int32_t> eos_token_ids = {1};
  int32_t bos_token_id = 2;
  int32_t pad_token_id = 0;
  bool do_sample = true;            // false: greedy decoding
  float temperature = 1.0f;         // <= 0: greedy
  int32_t top_k = 64;               // 0: off
  float top_p = 0.95f;              // 1: off
  float min_p = 0.0f;               // 0: off
  float repetition_penalty = 1.0f;  // 1: off

  // <model_dir>/generation_config.json when present, else the defaults above. A malformed file or
  // a value out of range throws vkg::Error, one line naming the file.
  static GenerationConfig Load(const std::filesystem::path& model_dir);
  // Parses the JSON text of a generation config; `source` names it in error messages.
  static GenerationConfig Parse(const std::string& json_text, const std::string& source);
  // Sets one field by its JSON name from text (a command-line flag's value), with the same checks
  // as the file; `source` (the flag) names it in errors. A temperature > 0 also sets do_sample.
  void Override(const std::string& key, const std::string& value, const std::string& source);

 private:
  static void Apply(const nlohmann::json& doc, const std::string& source, GenerationConfig* out);
};

}  // namespace vkg
