// generation_config.json reader (layer: host/text).
#include "host/text/generation_config.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "host/error.h"

namespace vkg {
namespace {

using nlohmann::json;

// A field is "absent" when missing or null (Hugging Face writes nulls for unset values).
const json* Field(const json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return nullptr;
  return &*it;
}

[[noreturn]] void Fail(const std::string& source, const std::string& key, const json& v, const std::string& expected) {
  throw Error(source + ": " + key + " is " + v.dump() + ", expected " + expected);
}

int32_t TokenId(const std::string& source, const std::string& key, const json& v) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 0x7fffffff) {
    Fail(source, key, v, "a token id (a whole number >= 0)");
  }
  return int32_t(v.get<int64_t>());
}

float Number(const std::string& source, const char* key, const json& v, double lo, double hi, bool lo_open,
             const std::string& expected) {
  if (!v.is_number()) Fail(source, key, v, expected);
  const double d = v.get<double>();
  if (d < lo || d > hi || (lo_open && d == lo)) Fail(source, key, v, expected);
  return float(d);
}

}  // namespace

GenerationConfig GenerationConfig::Parse(const std::string& json_text, const std::string& source) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw Error(source + ": malformed JSON (parse error at byte " + std::to_string(e.byte) + ")");
  }
  if (!doc.is_object()) throw Error(source + ": expected a JSON object at the top level");
  GenerationConfig c;
  Apply(doc, source, &c);
  return c;
}

void GenerationConfig::Override(const std::string& key, const std::string& value, const std::string& source) {
  static const char* kKeys[] = {"eos_token_id", "bos_token_id", "pad_token_id", "do_sample",         "temperature",
                                "top_k",        "top_p",        "min_p",        "repetition_penalty"};
  if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
    throw Error(source + ": unknown generation setting \"" + key + "\"");
  }
  json v = json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) v = value;  // reported below as the string it is
  Apply(json{{key, v}}, source, this);
  if (key == "temperature" && temperature > 0.0f) do_sample = true;
}

void GenerationConfig::Apply(const nlohmann::json& doc, const std::string& source, GenerationConfig* out) {
  GenerationConfig& c = *out;
  if (const json* v = Field(doc, "eos_token_id")) {
    c.eos_token_ids.clear();
    if (v->is_array()) {
      for (size_t i = 0; i < v->size(); ++i) {
        c.eos_token_ids.push_back(TokenId(source, "eos_token_id[" + std::to_string(i) + "]", (*v)[i]));
      }
    } else {
      c.eos_token_ids.push_back(TokenId(source, "eos_token_id", *v));
    }
  }
  if (const json* v = Field(doc, "bos_token_id")) c.bos_token_id = TokenId(source, "bos_token_id", *v);
  if (const json* v = Field(doc, "pad_token_id")) c.pad_token_id = TokenId(source, "pad_token_id", *v);
  if (const json* v = Field(doc, "do_sample")) {
    if (!v->is_boolean()) Fail(source, "do_sample", *v, "true or false");
    c.do_sample = v->get<bool>();
  }
  if (const json* v = Field(doc, "temperature")) {
    c.temperature = Number(source, "temperature", *v, 0.0, 1e6, false, "a number >= 0");
  }
  if (const json* v = Field(doc, "top_k")) {
    if (!v->is_number_integer() || v->get<int64_t>() < 0 || v->get<int64_t>() > 0x7fffffff) {
      Fail(source, "top_k", *v, "a whole number >= 0");
    }
    c.top_k = int32_t(v->get<int64_t>());
  }
  if (const json* v = Field(doc, "top_p")) c.top_p = Number(source, "top_p", *v, 0.0, 1.0, true, "a number in (0, 1]");
  if (const json* v = Field(doc, "min_p")) c.min_p = Number(source, "min_p", *v, 0.0, 1.0, false, "a number in [0, 1]");
  if (const json* v = Field(doc, "repetition_penalty")) {
    c.repetition_penalty = Number(source, "repetition_penalty", *v, 0.0, 1e6, true, "a number > 0");
  }
}

GenerationConfig GenerationConfig::Load(const std::filesystem::path& model_dir) {
  const std::filesystem::path path = model_dir / "generation_config.json";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return GenerationConfig{};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open (unreadable)");
  std::stringstream ss;
  ss << in.rdbuf();
  return Parse(ss.str(), path.string());
}

}  // namespace vkg
