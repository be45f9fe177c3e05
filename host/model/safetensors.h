// Read-only, memory-mapped safetensors reader: one file, or the shards of a checkpoint directory
// listed in model.safetensors.index.json (layer: host/model, CPU only). User files are never
// written. Every structural problem throws vkg::Error naming the file and the tensor.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "host/formats/dtype.h"

namespace vkg {

struct TensorInfo {
  std::string name;        // per-model name, prefix stripped: "layers.3.self_attn.q_proj.weight"
  std::string file_name;   // as written in the file: "model.language_model.layers.3...."
  std::string dtype_name;  // dtype as the file names it: "BF16", "F32", "I64", "Q8_0", ...
  bool is_float = false;   // F32, F16 or BF16
  // Meaningful when is_float or quantized. Q8_0 / Q4_0 come only from GGUF files and keep ggml's
  // block layout (ggml_blocks.h): the checkpoint's bytes are never rewritten.
  DType dtype = DType::F32;
  bool quantized = false;  // Q8_0 or Q4_0 (GGUF)
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // points into the read-only mapping
  size_t size = 0;                // bytes
  std::string file;               // the file holding it (base name, e.g. "model.safetensors")

  int64_t numel() const;
};

// "[64, 48]": how shapes appear in error messages.
std::string ShapeString(const std::vector<int64_t>& shape);

// The tensor's values as float32 (from F32, F16, BF16, or exactly dequantized Q8_0 / Q4_0; throws
// vkg::Error for other dtypes).
std::vector<float> ToFloat32(const TensorInfo& t);
// Element i (row-major) of a float or quantized tensor, as float32.
float TensorElement(const TensorInfo& t, size_t i);

// True for tensor names of the vision/audio towers and their projectors: the text decoder skips
// them without looking at them.
bool IsMultimodalTensorName(const std::string& file_name);
// "model.vision_tower.*" and "model.embed_vision.*": kept (as "vision_tower.*", "embed_vision.*")
// when their dtype is a float one.
bool IsVisionTensorName(const std::string& file_name);
// "model.language_model.X" (released) and "model.X" (text-only export) -> "X"; others unchanged.
std::string StripModelPrefix(const std::string& file_name);

class MappedFile;

// One .safetensors file, mapped read-only and validated on open: header length and JSON,
// dtype and shape vs byte size, offsets inside the file, no overlapping tensors.
// Multimodal tensors are validated structurally but not listed.
class SafetensorsFile {
 public:
  static std::unique_ptr<SafetensorsFile> Open(const std::filesystem::path& path);
  ~SafetensorsFile();
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const std::string& name() const { return name_; }

 private:
  SafetensorsFile() = default;
  std::unique_ptr<MappedFile> map_;
  std::string name_;
  std::vector<TensorInfo> tensors_;
};

// All text-decoder tensors of a checkpoint directory: model.safetensors.index.json with its shards
// when present, else model.safetensors. Lookup is by per-model (prefix-stripped) name.
class WeightsFile {
 public:
  static WeightsFile Open(const std::filesystem::path& dir);
  // Tensors described elsewhere (a GGUF file): `keep_alive` owns the memory their data points
  // into; `source_name` is named in errors about absent tensors.
  static WeightsFile FromTensors(std::string source_name, std::vector<TensorInfo> tensors,
                                 std::shared_ptr<const void> keep_alive);
  WeightsFile(WeightsFile&&) noexcept;
  WeightsFile& operator=(WeightsFile&&) noexcept;
  ~WeightsFile();

  // nullptr when absent.
  const TensorInfo* Find(const std::string& name) const;
  const std::map<std::string, const TensorInfo*>& all() const { return by_name_; }
  // "model.safetensors" or "model.safetensors.index.json": named in errors about absent tensors.
  const std::string& source_name() const { return source_name_; }
  size_t shard_count() const { return files_.size(); }

 private:
  WeightsFile() = default;
  void Add(std::unique_ptr<SafetensorsFile> f);
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::vector<std::unique_ptr<TensorInfo>> owned_;  // FromTensors
  std::shared_ptr<const void> keep_alive_;
  std::map<std::string, const TensorInfo*> by_name_;
  std::string source_name_;
};

}  // namespace vkg
