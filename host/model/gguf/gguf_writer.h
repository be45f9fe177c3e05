// GGUF v3 writer (layer: host/model, CPU only): what the project's own checkpoint generator and the
// tests write GGUF files with. Builds the file in memory; Bytes() returns it, Write() saves it.
// Format: see gguf_file.h.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "host/model/gguf/gguf_file.h"

namespace vkg {

class GgufWriter {
 public:
  explicit GgufWriter(uint32_t alignment = 32) : alignment_(alignment) {}

  GgufWriter& String(const std::string& key, const std::string& value);
  GgufWriter& U32(const std::string& key, uint32_t value);
  GgufWriter& I32(const std::string& key, int32_t value);
  GgufWriter& U64(const std::string& key, uint64_t value);
  GgufWriter& F32(const std::string& key, float value);
  GgufWriter& Bool(const std::string& key, bool value);
  GgufWriter& Strings(const std::string& key, const std::vector<std::string>& values);
  GgufWriter& I32s(const std::string& key, const std::vector<int32_t>& values);
  GgufWriter& U32s(const std::string& key, const std::vector<uint32_t>& values);
  GgufWriter& F32s(const std::string& key, const std::vector<float>& values);
  GgufWriter& Bools(const std::string& key, const std::vector<bool>& values);
  // Any value as the reader returned it (copying or editing a file's metadata in tests).
  GgufWriter& Value(const std::string& key, const GgufValue& value);
  // A tensor of `type` with dimensions ne (GGUF order, ne[0] innermost) and its encoded bytes
  // (whole blocks of its type; checked).
  GgufWriter& Tensor(const std::string& name, GgmlType type, const std::vector<uint64_t>& ne,
                     std::span<const uint8_t> data);

  std::vector<uint8_t> Bytes() const;
  void Write(const std::filesystem::path& path) const;

 private:
  void Key(const std::string& key, GgufType type);
  void Raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    kv_.insert(kv_.end(), b, b + n);
  }
  template <typename T>
  void Put(T v) {
    Raw(&v, sizeof v);
  }
  void PutString(const std::string& s);
  void PutValue(GgufType type, const GgufValue& v);

  struct PendingTensor {
    std::string name;
    GgmlType type;
    std::vector<uint64_t> ne;
    std::vector<uint8_t> data;
  };
  uint32_t alignment_;
  uint64_t n_kv_ = 0;
  std::vector<uint8_t> kv_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace vkg
