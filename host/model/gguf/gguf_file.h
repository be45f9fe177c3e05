// Read-only GGUF reader (llama.cpp's single-file model format, versions 2 and 3, little-endian)
// over a memory mapping (layer: host/model, CPU only). The file is never written. Every structural
// problem throws vkg::Error naming the file and what is wrong, before anything else runs:
// truncation, wrong magic or version, counts that cannot fit in the file, unknown value or tensor
// types, shapes that disagree with their type's block size, data offsets that are misaligned or
// past the end, overlapping tensors, duplicate names. Nothing is allocated for a count before the
// bytes it needs are known to be in the file, so a corrupt header costs at most the file's size.
//
// Layout (GGUF v3): "GGUF" u32 version u64 n_tensors u64 n_kv; n_kv x {string key, u32 type,
// value}; n_tensors x {string name, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset};
// padding to general.alignment (default 32); the data section, each tensor at its offset.
// Strings are u64 length + bytes; arrays are u32 element type + u64 count + elements. ne[0] is
// the innermost (row) dimension: a [rows][cols] matrix has ne = {cols, rows}.
//
// Multi-part files ("name-00001-of-00003.gguf"): GgufModel opens every part from the first one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace vkg {

class MappedFile;

// Value types of GGUF metadata.
enum class GgufType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};
const char* GgufTypeName(GgufType t);

// ggml tensor types as numbered in GGUF files. Only the ones with a known block layout are
// listed; any other number is refused with the tensor's name.
enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  BF16 = 30,
};
struct GgmlTypeInfo {
  GgmlType type;
  const char* name;       // "Q4_K"
  uint32_t block_values;  // values per block (1 for plain floats)
  uint32_t block_bytes;   // bytes per block
};
// nullptr for a type number this reader does not know.
const GgmlTypeInfo* FindGgmlType(uint32_t type);

struct GgufValue {
  GgufType type = GgufType::kU8;
  // Scalars: integers and bools in `i` (u64 values above INT64_MAX keep their bits), floats in `f`.
  int64_t i = 0;
  double f = 0;
  std::string s;
  // Arrays: element type, then the elements in the vector of their kind.
  GgufType elem = GgufType::kU8;
  std::vector<int64_t> ints;         // integer and bool elements
  std::vector<double> floats;        // f32 / f64 elements
  std::vector<std::string> strings;  // string elements
  std::vector<GgufValue> arrays;     // array elements (nested arrays)
  size_t ArraySize() const;          // elements of an array value
};

struct GgufTensor {
  std::string name;
  GgmlType type = GgmlType::F32;
  std::vector<uint64_t> ne;  // GGUF order: ne[0] innermost
  uint64_t offset = 0;       // in the data section
  uint64_t bytes = 0;
  const uint8_t* data = nullptr;  // into the read-only mapping
  uint64_t Elements() const;
  // The shape outermost first, as safetensors and the model code write it: {ne[n-1], ..., ne[0]}.
  std::vector<int64_t> Shape() const;
};

// One GGUF file (one part of a multi-part model).
class GgufFile {
 public:
  static std::unique_ptr<GgufFile> Open(const std::filesystem::path& path);
  // Parses bytes already in memory (fuzzing, tests); `name` appears in error messages. The bytes
  // must outlive the object.
  static std::unique_ptr<GgufFile> Parse(std::span<const uint8_t> bytes, const std::string& name);
  ~GgufFile();

  const std::string& name() const { return name_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  const std::map<std::string, GgufValue>& metadata() const { return metadata_; }
  const std::vector<GgufTensor>& tensors() const { return tensors_; }

  const GgufValue* Find(const std::string& key) const;
  // Typed metadata reads; a missing key or a value of another type throws a one-line vkg::Error.
  std::string GetString(const std::string& key) const;
  int64_t GetInt(const std::string& key) const;   // any integer type
  double GetFloat(const std::string& key) const;  // f32 / f64
  bool GetBool(const std::string& key) const;

 private:
  GgufFile() = default;
  std::unique_ptr<MappedFile> map_;
  std::string name_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::map<std::string, GgufValue> metadata_;
  std::vector<GgufTensor> tensors_;
};

// A whole GGUF model: one file, or every part of a split one, opened from its first part.
// Metadata comes from the first part; tensors from all parts, names unique across them.
class GgufModel {
 public:
  static GgufModel Open(const std::filesystem::path& path);
  const GgufFile& first() const { return *parts_.front(); }
  const std::vector<std::unique_ptr<GgufFile>>& parts() const { return parts_; }
  // nullptr when the model has no tensor of that name.
  const GgufTensor* FindTensor(const std::string& name) const;
  size_t tensor_count() const { return tensors_.size(); }

 private:
  std::vector<std::unique_ptr<GgufFile>> parts_;
  std::map<std::string, const GgufTensor*> tensors_;
};

// True for a path whose name ends in ".gguf" (what `-m` takes besides a checkpoint directory).
bool IsGgufPath(const std::filesystem::path& path);

}  // namespace vkg
