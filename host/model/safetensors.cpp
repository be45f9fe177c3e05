// Safetensors parsing and validation over a read-only mmap (layer: host/model).
// Format: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape,
// data_offsets: [begin, end)}} (offsets relative to the data section), then the data section.
#include "host/model/safetensors.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "host/error.h"
#include "host/formats/ggml_blocks.h"
#include "host/model/mapped_file.h"

namespace vkg {

using nlohmann::json;

namespace {

// Element size of every dtype the safetensors format defines; 0 = not a safetensors dtype.
size_t ElementSize(const std::string& dt) {
  static const std::map<std::string, size_t> kSizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
      {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},     {"F64", 8},     {"I64", 8}, {"U64", 8}};
  auto it = kSizes.find(dt);
  return it == kSizes.end() ? 0 : it->second;
}

struct Entry {
  std::string name;
  uint64_t begin, end;
};

}  // namespace

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Any format as stored (f32/f16/bf16 and the ggml blocks): the format table's value codec.
float TensorElement(const TensorInfo& t, size_t i) { return GgmlBlockElement(t.dtype, t.data, i); }

std::vector<float> ToFloat32(const TensorInfo& t) {
  if (!t.is_float && !t.quantized) {
    throw Error(t.file + ": tensor " + t.name + " has dtype " + t.dtype_name + ", expected BF16, F16 or F32");
  }
  const size_t n = size_t(t.numel());
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = TensorElement(t, i);
  return out;
}

bool IsVisionTensorName(const std::string& n) {
  return n.rfind("model.vision_tower.", 0) == 0 || n.rfind("model.embed_vision.", 0) == 0;
}

bool IsMultimodalTensorName(const std::string& n) {
  for (const char* p : {"model.vision_tower.", "model.audio_tower.", "model.embed_vision.", "model.embed_audio."}) {
    if (n.rfind(p, 0) == 0) return true;
  }
  return false;
}

std::string StripModelPrefix(const std::string& n) {
  for (const char* p : {"model.language_model.", "model."}) {
    const size_t len = std::strlen(p);
    if (n.size() > len && n.compare(0, len, p) == 0) return n.substr(len);
  }
  return n;
}

SafetensorsFile::~SafetensorsFile() = default;

namespace {

Error FileError(const std::string& file, const std::string& what) { return Error(file + ": " + what); }

// The 8-byte little-endian header length and the JSON object after it; the data section follows.
struct Header {
  json object;
  uint64_t length = 0;  // bytes of JSON
};

Header ParseHeader(const std::string& file, const MappedFile& map) {
  const size_t file_size = map.size();
  if (file_size < 8) {
    throw FileError(file,
                    "truncated file (" + std::to_string(file_size) + " bytes, too short for the 8-byte header length)");
  }
  Header h;
  for (int i = 7; i >= 0; --i) h.length = (h.length << 8) | map.data()[i];
  if (h.length > file_size - 8) {
    throw FileError(file, "header length " + std::to_string(h.length) + " is beyond the end of the file (" +
                              std::to_string(file_size) + " bytes)");
  }
  try {
    h.object = json::parse(map.data() + 8, map.data() + 8 + h.length);
  } catch (const json::parse_error& e) {
    throw FileError(file, "malformed JSON header (parse error at byte " + std::to_string(e.byte) + ")");
  }
  if (!h.object.is_object()) throw FileError(file, "malformed header: expected a JSON object");
  return h;
}

// One tensor of the header, validated: its byte range, and its TensorInfo (data not yet set).
struct HeaderTensor {
  Entry entry;
  TensorInfo info;
  bool multimodal = false;  // a vision/audio tensor: its range counts, the tensor is not kept
};

HeaderTensor ParseHeaderTensor(const std::string& file, const std::string& raw, const json& v) {
  auto bad = [&](const std::string& what) { return FileError(file, "malformed header: tensor " + raw + " " + what); };
  if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets")) {
    throw bad("needs dtype, shape and data_offsets");
  }
  const json& jd = v.at("dtype");
  const json& js = v.at("shape");
  const json& jo = v.at("data_offsets");
  if (!jd.is_string()) throw bad("has a non-string dtype");
  if (!js.is_array()) throw bad("has a shape that is not a list");
  if (!jo.is_array() || jo.size() != 2 || !jo[0].is_number_unsigned() || !jo[1].is_number_unsigned()) {
    throw bad("needs data_offsets [begin, end] of two non-negative integers");
  }
  HeaderTensor h{Entry{raw, jo[0].get<uint64_t>(), jo[1].get<uint64_t>()}, TensorInfo{}, IsMultimodalTensorName(raw)};
  const Entry& e = h.entry;
  if (e.end < e.begin) {
    throw bad("has data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
              "] with end before begin");
  }
  TensorInfo& t = h.info;
  t.file_name = raw;
  t.name = StripModelPrefix(raw);
  t.dtype_name = jd.get<std::string>();
  t.file = file;
  uint64_t numel = 1;
  for (const json& d : js) {
    if (!d.is_number_unsigned()) throw bad("has a shape entry that is not a non-negative integer");
    const uint64_t dim = d.get<uint64_t>();
    if (dim != 0 && numel > (uint64_t(1) << 62) / dim) throw bad("has an absurdly large shape");
    numel *= dim;
    t.shape.push_back(int64_t(dim));
  }
  const size_t esize = ElementSize(t.dtype_name);
  if (esize == 0 && !h.multimodal) {
    throw FileError(file,
                    "tensor " + raw + " has unsupported dtype \"" + t.dtype_name + "\" (expected F32, F16 or BF16)");
  }
  if (esize != 0 && e.end - e.begin != numel * esize) {
    throw FileError(file, "tensor " + raw + " data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                              "] hold " + std::to_string(e.end - e.begin) + " bytes, but shape " +
                              ShapeString(t.shape) + " of " + t.dtype_name + " needs " + std::to_string(numel * esize));
  }
  t.is_float = t.dtype_name == "F32" || t.dtype_name == "F16" || t.dtype_name == "BF16";
  t.dtype = t.dtype_name == "F16" ? DType::F16 : t.dtype_name == "BF16" ? DType::BF16 : DType::F32;
  t.size = size_t(e.end - e.begin);
  return h;
}

// The byte ranges of every tensor (multimodal ones too): no two overlap, and all lie inside the
// data section of `data_size` bytes.
void CheckOffsets(const std::string& file, std::vector<Entry> entries, uint64_t data_size) {
  // Overlaps first: sorted by begin, each tensor must start at or after the previous one's end.
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  bool contiguous = true;  // tensors tile [0, end) with no gaps, as every writer lays them out
  uint64_t prev_end = 0;
  size_t last = 0;  // the entry that reaches prev_end
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (i > 0 && e.begin < prev_end && e.end > e.begin) {
      const Entry& p = entries[last];
      throw FileError(file, "tensors " + p.name + " [" + std::to_string(p.begin) + ", " + std::to_string(p.end) +
                                ") and " + e.name + " [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                                ") overlap");
    }
    if (e.begin != prev_end) contiguous = false;
    if (e.end > prev_end) {
      prev_end = e.end;
      last = i;
    }
  }
  if (prev_end <= data_size) return;
  // A gap-free layout cut short is a truncated file; otherwise some offsets are simply wrong.
  if (contiguous) {
    throw FileError(file, "truncated file: the header describes " + std::to_string(prev_end) +
                              " bytes of tensor data, but only " + std::to_string(data_size) + " follow it");
  }
  for (const Entry& e : entries) {
    if (e.end > data_size) {
      throw FileError(file, "tensor " + e.name + " data_offsets [" + std::to_string(e.begin) + ", " +
                                std::to_string(e.end) + "] point outside the file (data section is " +
                                std::to_string(data_size) + " bytes)");
    }
  }
}

}  // namespace

std::unique_ptr<SafetensorsFile> SafetensorsFile::Open(const std::filesystem::path& path) {
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->name_ = path.filename().string();
  f->map_ = std::make_unique<MappedFile>(path);
  const Header header = ParseHeader(f->name_, *f->map_);
  const uint8_t* data_section = f->map_->data() + 8 + header.length;
  const uint64_t data_size = f->map_->size() - 8 - header.length;

  std::vector<Entry> entries;
  for (auto it = header.object.begin(); it != header.object.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    HeaderTensor h = ParseHeaderTensor(f->name_, it.key(), it.value());
    entries.push_back(h.entry);
    // Vision and audio tensors are kept (the towers run from them) when their dtype is one we
    // read; others are skipped: Check{Vision,Audio}Tensors names a tower tensor the config needs
    // and this left out.
    if (h.multimodal && !h.info.is_float) continue;
    // Offsets are checked below (CheckOffsets) before anyone can read through this pointer.
    h.info.data = data_section + std::min<uint64_t>(h.entry.begin, data_size);
    f->tensors_.push_back(std::move(h.info));
  }
  CheckOffsets(f->name_, std::move(entries), data_size);
  return f;
}

WeightsFile::WeightsFile(WeightsFile&&) noexcept = default;
WeightsFile& WeightsFile::operator=(WeightsFile&&) noexcept = default;
WeightsFile::~WeightsFile() = default;

const TensorInfo* WeightsFile::Find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

void WeightsFile::Add(std::unique_ptr<SafetensorsFile> f) {
  for (const TensorInfo& t : f->tensors()) {
    auto [it, inserted] = by_name_.emplace(t.name, &t);
    if (!inserted) {
      throw Error(t.file + ": tensor " + t.name + " appears twice (as " + it->second->file_name + " in " +
                  it->second->file + " and as " + t.file_name + ")");
    }
  }
  files_.push_back(std::move(f));
}

WeightsFile WeightsFile::FromTensors(std::string source_name, std::vector<TensorInfo> tensors,
                                     std::shared_ptr<const void> keep_alive) {
  WeightsFile w;
  w.source_name_ = std::move(source_name);
  w.keep_alive_ = std::move(keep_alive);
  for (TensorInfo& t : tensors) {
    w.owned_.push_back(std::make_unique<TensorInfo>(std::move(t)));
    const TensorInfo* info = w.owned_.back().get();
    if (!w.by_name_.emplace(info->name, info).second) {
      throw Error(info->file + ": tensor " + info->name + " appears twice");
    }
  }
  return w;
}

WeightsFile WeightsFile::Open(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  WeightsFile w;
  const fs::path index_path = dir / "model.safetensors.index.json";
  if (!fs::exists(index_path)) {
    const fs::path single = dir / "model.safetensors";
    if (!fs::exists(single)) {
      throw Error(dir.string() + ": no model.safetensors or model.safetensors.index.json");
    }
    w.source_name_ = "model.safetensors";
    w.Add(SafetensorsFile::Open(single));
    return w;
  }

  w.source_name_ = index_path.filename().string();
  const std::string& iname = w.source_name_;
  json index;
  {
    std::ifstream in(index_path, std::ios::binary);
    if (!in) throw Error(index_path.string() + ": cannot open (file missing or unreadable)");
    std::stringstream ss;
    ss << in.rdbuf();
    try {
      index = json::parse(ss.str());
    } catch (const json::parse_error& e) {
      throw Error(iname + ": malformed JSON (parse error at byte " + std::to_string(e.byte) + ")");
    }
  }
  if (!index.is_object() || !index.contains("weight_map") || !index.at("weight_map").is_object()) {
    throw Error(iname + ": missing weight_map object");
  }
  // Shards in first-mention order; a shard holding only multimodal tensors need not exist (one with
  // vision tensors is read when it does: CheckTensors names what a vision config misses).
  std::vector<std::string> shards;
  std::set<std::string> vision_only;
  std::map<std::string, std::vector<std::string>> expected;  // shard -> text tensors it must hold
  for (auto it = index.at("weight_map").begin(); it != index.at("weight_map").end(); ++it) {
    if (!it.value().is_string()) throw Error(iname + ": weight_map entry " + it.key() + " is not a file name");
    const std::string shard = it.value().get<std::string>();
    if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..") {
      throw Error(iname + ": weight_map names \"" + shard + "\" for tensor " + it.key() +
                  ", expected a file name in the checkpoint directory");
    }
    if (IsMultimodalTensorName(it.key())) {
      if (!expected.count(shard) && fs::exists(dir / shard)) {  // a tower's own shard
        if (vision_only.insert(shard).second) shards.push_back(shard);
      }
      continue;
    }
    vision_only.erase(shard);
    if (!expected.count(shard)) {
      if (std::find(shards.begin(), shards.end(), shard) == shards.end()) shards.push_back(shard);
    }
    expected[shard].push_back(it.key());
  }
  for (const std::string& shard : shards) {
    const fs::path p = dir / shard;
    if (!fs::exists(p)) {
      throw Error(iname + ": shard " + shard + " (named for tensor " + expected[shard].front() + ") does not exist");
    }
    auto f = SafetensorsFile::Open(p);
    std::set<std::string> present;
    for (const TensorInfo& t : f->tensors()) present.insert(t.file_name);
    for (const std::string& name : expected[shard]) {
      if (!present.count(name)) {
        throw Error(shard + ": tensor " + name + " named in " + iname + " is not in this file");
      }
    }
    w.Add(std::move(f));
  }
  return w;
}

}  // namespace vkg
