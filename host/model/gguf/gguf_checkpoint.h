// A Gemma 4 GGUF file (or the first part of a split one) as a checkpoint: config from its
// metadata, every tensor the config implies checked for presence, shape and type before anything
// runs, and mapped (never copied) under our per-model names (layer: host/model, CPU only).
// Names: gguf_names.h; metadata: gguf_config.h.
#pragma once
#include <filesystem>

#include "host/model/config.h"
#include "host/model/gguf/gguf_file.h"
#include "host/model/safetensors.h"

namespace vkg {

struct GgufCheckpoint {
  ModelConfig config;
  WeightsFile weights;  // per-model names; keeps the mapping alive
};

// Throws a one-line vkg::Error naming the file and the GGUF tensor or key at the first problem.
// mmproj: llama.cpp's projector GGUF for Gemma 4 vision (gguf_mmproj.h), or empty: its tower and
// image token ids become config.mm and its tensors join the weights under our per-model names.
GgufCheckpoint LoadGgufCheckpoint(const std::filesystem::path& path, const std::filesystem::path& mmproj = {});

// The storage types a GGUF tensor may have, as the dtype our loaders read it in; false for the
// rest: every format of the format table (host/formats/format_traits.h). Q8_1 and Q8_K (activation
// formats) and the IQ / TQ types are refused until the device has kernels for them: a table row
// and its codec (docs/add-weight-format.md) plus a line here is what it takes to accept one.
bool GgmlTypeSupported(GgmlType t, DType* as);

}  // namespace vkg
