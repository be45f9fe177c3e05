// GGUF-backed checkpoint: tensor checks and the per-model view (layer: host/model).
#include "host/model/gguf/gguf_checkpoint.h"

#include <map>
#include <memory>

#include "host/error.h"
#include "host/model/gguf/gguf_config.h"
#include "host/model/gguf/gguf_mmproj.h"
#include "host/model/gguf/gguf_names.h"
#include "host/model/tensor_names.h"

namespace vkg {
namespace {

const char kSupportedTypes[] = "F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K";

// "[64, 48]" in GGUF's ne order (innermost first), as llama.cpp's tools print shapes.
std::string NeString(const std::vector<int64_t>& shape_outer_first) {
  std::vector<int64_t> ne(shape_outer_first.rbegin(), shape_outer_first.rend());
  return ShapeString(ne);
}

bool FloatOnly(const TensorSpec& spec) {
  return spec.role != TensorRole::kMatrix && spec.role != TensorRole::kEmbedding;
}

}  // namespace

bool GgmlTypeSupported(GgmlType t, DType* as) {
  switch (t) {
    case GgmlType::F32: *as = DType::F32; return true;
    case GgmlType::F16: *as = DType::F16; return true;
    case GgmlType::BF16: *as = DType::BF16; return true;
    case GgmlType::Q8_0: *as = DType::Q8_0; return true;
    case GgmlType::Q4_0: *as = DType::Q4_0; return true;
    case GgmlType::Q4_K: *as = DType::Q4_K; return true;
    case GgmlType::Q5_K: *as = DType::Q5_K; return true;
    case GgmlType::Q6_K: *as = DType::Q6_K; return true;
    case GgmlType::Q4_1: *as = DType::Q4_1; return true;
    case GgmlType::Q5_0: *as = DType::Q5_0; return true;
    case GgmlType::Q5_1: *as = DType::Q5_1; return true;
    case GgmlType::Q2_K: *as = DType::Q2_K; return true;
    case GgmlType::Q3_K: *as = DType::Q3_K; return true;
    default: return false;
  }
}

GgufCheckpoint LoadGgufCheckpoint(const std::filesystem::path& path, const std::filesystem::path& mmproj) {
  auto model = std::make_shared<GgufModel>(GgufModel::Open(path));
  ModelConfig config = GgufModelConfig(*model);
  std::map<const GgufTensor*, std::string> part_of;  // the file each tensor is in, for errors
  for (const auto& part : model->parts()) {
    for (const GgufTensor& t : part->tensors()) part_of[&t] = part->name();
  }

  std::vector<TensorInfo> infos;
  ForEachTensor(config, [&](const TensorSpec& spec) {
    const std::string name = GgufTensorName(spec.name);
    const GgufTensor* t = model->FindTensor(name);
    if (!t) {
      throw Error(model->first().name() + ": missing tensor " + name + " (expected ne " + NeString(spec.shape) + ")");
    }
    const std::string& file = part_of.at(t);
    const std::vector<int64_t> shape = t->Shape();
    if (shape != spec.shape) {
      throw Error(file + ": tensor " + name + " has ne " + NeString(shape) + ", expected " + NeString(spec.shape));
    }
    const GgmlTypeInfo* type = FindGgmlType(uint32_t(t->type));
    const std::string type_name = type ? type->name : std::to_string(uint32_t(t->type));
    DType dtype;
    if (!GgmlTypeSupported(t->type, &dtype)) {
      throw Error(file + ": tensor " + name + " has type " + type_name +
                  ", which is not supported yet (supported: " + kSupportedTypes + ")");
    }
    if (IsQuantized(dtype) && FloatOnly(spec)) {
      throw Error(file + ": tensor " + name + " has type " + type_name + ", expected F32, F16 or BF16");
    }
    TensorInfo info;
    info.name = spec.name;
    info.file_name = name;
    info.dtype_name = type_name;
    info.dtype = dtype;
    info.quantized = IsQuantized(dtype);
    info.is_float = !info.quantized;
    info.shape = shape;
    info.data = t->data;
    info.size = size_t(t->bytes);
    info.file = file;
    infos.push_back(std::move(info));
  });
  if (mmproj.empty()) {
    return GgufCheckpoint{std::move(config), WeightsFile::FromTensors(model->first().name(), std::move(infos), model)};
  }
  GgufProjector proj = LoadGgufProjector(mmproj, config, model->first());
  config.mm = proj.mm;
  config.Validate(model->first().name());
  for (TensorInfo& t : proj.tensors) infos.push_back(std::move(t));
  // Both mappings (and the projector's re-laid-out patch embedding) live as long as the weights.
  auto both = std::make_shared<std::pair<std::shared_ptr<const void>, std::shared_ptr<const void>>>(
      model, std::move(proj.keep_alive));
  return GgufCheckpoint{std::move(config), WeightsFile::FromTensors(model->first().name(), std::move(infos), both)};
}

}  // namespace vkg
