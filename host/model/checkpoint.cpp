// Checkpoint loading: config, weights, tensor checks (layer: host/model).
#include "host/model/checkpoint.h"

#include "host/error.h"
#include "host/model/gguf/gguf_checkpoint.h"
#include "host/model/gguf/gguf_config.h"
#include "host/model/gguf/gguf_mmproj.h"
#include "host/model/tensor_names.h"

namespace vkg {

namespace {

// --mmproj goes with a GGUF text model only (an HF checkpoint's tower is in its config.json).
void CheckMmproj(const std::filesystem::path& dir, const std::filesystem::path& mmproj) {
  if (mmproj.empty() || IsGgufPath(dir)) return;
  throw Error("--mmproj " + mmproj.string() + ": a projector file goes with a GGUF text model; " + dir.string() +
              " is a Hugging Face checkpoint, whose vision tower is in its own files");
}

}  // namespace

ModelConfig Checkpoint::LoadConfigOf(const std::filesystem::path& dir, const std::filesystem::path& mmproj) {
  CheckMmproj(dir, mmproj);
  if (IsGgufPath(dir)) {
    const GgufModel model = GgufModel::Open(dir);
    ModelConfig c = GgufModelConfig(model);
    if (!mmproj.empty()) c.mm = GgufProjectorConfig(mmproj, c, model.first());
    return c;
  }
  if (!std::filesystem::is_directory(dir)) {
    throw Error(dir.string() + ": not a checkpoint directory");
  }
  return LoadConfig(dir / "config.json");
}

Checkpoint Checkpoint::Load(const std::filesystem::path& dir, const std::filesystem::path& mmproj) {
  CheckMmproj(dir, mmproj);
  if (IsGgufPath(dir)) {
    GgufCheckpoint g = LoadGgufCheckpoint(dir, mmproj);
    return Checkpoint(dir, std::move(g.config), std::move(g.weights));
  }
  ModelConfig config = LoadConfigOf(dir);
  WeightsFile weights = WeightsFile::Open(dir);
  CheckTensors(config, weights);
  return Checkpoint(dir, std::move(config), std::move(weights));
}

DType Checkpoint::stored_format() const {
  bool first = true, mixed = false;
  DType format = DType::BF16;
  ForEachTensor(config_, [&](const TensorSpec& spec) {
    if (!InComputeFormat(spec)) return;
    const DType t = Tensor(spec.name).dtype;  // CheckTensors made sure it is present and a float
    if (!first && t != format) mixed = true;
    format = t;
    first = false;
  });
  return mixed ? DType::F32 : format;
}

const TensorInfo& Checkpoint::Tensor(const std::string& name) const {
  const TensorInfo* t = weights_.Find(name);
  if (!t) throw Error(weights_.source_name() + ": missing tensor " + name);
  return *t;
}

std::vector<float> Checkpoint::Float32(const std::string& name) const { return ToFloat32(Tensor(name)); }

}  // namespace vkg
