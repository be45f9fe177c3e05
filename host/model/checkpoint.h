// Checkpoint: a Hugging Face Gemma 4 directory (config.json + safetensors) or a GGUF file (its
// first part when split; gguf_checkpoint.h), loaded and checked before anything runs
// (layer: host/model, CPU only).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "host/model/config.h"
#include "host/model/gguf/gguf_file.h"
#include "host/model/safetensors.h"

namespace vkg {

class Checkpoint {
 public:
  // Parses config.json, maps the weights (single file or shards) and runs CheckTensors; for a
  // path ending in .gguf (IsGgufPath), LoadGgufCheckpoint. Throws vkg::Error on any problem,
  // naming the file and the tensor.
  // mmproj (--mmproj): llama.cpp's projector GGUF for Gemma 4 vision next to a GGUF text model
  // (host/model/gguf/gguf_mmproj.h); empty for none. An HF directory carries its own tower and
  // refuses one.
  static Checkpoint Load(const std::filesystem::path& dir, const std::filesystem::path& mmproj = {});
  // Only the directory check and config.json, or a GGUF file's metadata (and the mmproj's) (cheap;
  // for checks before loading weights).
  static ModelConfig LoadConfigOf(const std::filesystem::path& dir, const std::filesystem::path& mmproj = {});

  const ModelConfig& config() const { return config_; }
  const WeightsFile& weights() const { return weights_; }
  const std::filesystem::path& dir() const { return dir_; }  // the .gguf file for GGUF
  bool is_gguf() const { return IsGgufPath(dir_); }

  // The dtype of the weights the GPU holds in a compute format (InComputeFormat): theirs when they
  // share one, else f32, the one format that holds bf16, f16 and f32 values alike (bf16 and f16
  // cannot hold each other's; a GGUF file mixing q8_0 / q4_0 with other types gets f32 too, which
  // holds every value exactly). The default compute format: a checkpoint computes from its own
  // values unless --weights says otherwise.
  DType stored_format() const;

  // The tensor by per-model name ("layers.0.mlp.up_proj.weight"); throws vkg::Error if absent.
  const TensorInfo& Tensor(const std::string& name) const;
  // Its values converted to float32 (from BF16 / F16 / F32, or GGUF Q8_0 / Q4_0 dequantized exactly).
  std::vector<float> Float32(const std::string& name) const;

 private:
  Checkpoint(std::filesystem::path dir, ModelConfig config, WeightsFile weights)
      : dir_(std::move(dir)), config_(std::move(config)), weights_(std::move(weights)) {}
  std::filesystem::path dir_;
  ModelConfig config_;
  WeightsFile weights_;
};

}  // namespace vkg
