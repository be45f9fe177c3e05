// FieldReader: typed reads of one config.json object whose errors name the file and the dotted
// field path (layer: host/model, internal to the config parsers).
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "host/error.h"

namespace vkg {

// Reads typed fields from one JSON object; errors name the file and the dotted field path.
class FieldReader {
 public:
  FieldReader(const nlohmann::json& obj, std::string source, std::string prefix)
      : obj_(obj), source_(std::move(source)), prefix_(std::move(prefix)) {}

  bool Has(const char* key) const { return obj_.contains(key) && !obj_.at(key).is_null(); }

  // Missing or null -> fallback (HF treats null as "unset" for every field we read).
  int Int(const char* key, int fallback) const {
    if (!Has(key)) return fallback;
    const nlohmann::json& v = obj_.at(key);
    if (!v.is_number_integer()) Fail(key, v, "an integer");
    const int64_t i = v.get<int64_t>();
    if (i < INT32_MIN || i > INT32_MAX) Fail(key, v, "a 32-bit integer");
    return int(i);
  }
  float Float(const char* key, float fallback) const {
    if (!Has(key)) return fallback;
    const nlohmann::json& v = obj_.at(key);
    if (!v.is_number()) Fail(key, v, "a number");
    return v.get<float>();
  }
  bool Bool(const char* key, bool fallback) const {
    if (!Has(key)) return fallback;
    const nlohmann::json& v = obj_.at(key);
    if (!v.is_boolean()) Fail(key, v, "true or false");
    return v.get<bool>();
  }
  std::string String(const char* key, const std::string& fallback) const {
    if (!Has(key)) return fallback;
    const nlohmann::json& v = obj_.at(key);
    if (!v.is_string()) Fail(key, v, "a string");
    return v.get<std::string>();
  }
  const nlohmann::json& Raw(const char* key) const { return obj_.at(key); }
  std::string Path(const char* key) const { return prefix_ + key; }

  [[noreturn]] void Fail(const char* key, const nlohmann::json& v, const char* expected) const {
    throw Error(source_ + ": " + Path(key) + " is " + v.dump() + ", expected " + expected);
  }

 private:
  const nlohmann::json& obj_;
  std::string source_;
  std::string prefix_;
};

}  // namespace vkg
