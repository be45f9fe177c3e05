// Safetensors / index / config writing for vkg_make_checkpoint (layer: tools/make_checkpoint).
// Tensor names get the released prefix "model.language_model." ("model." for --text-only);
// the tied output head is not stored, as in the released files.
#include "tools/make_checkpoint/writer.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host/error.h"
#include "host/formats/dtype.h"
#include "host/model/tensor_names.h"
#include "tools/make_checkpoint/random_weights.h"

namespace vkg::mkckpt {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

struct Planned {
  TensorSpec spec;
  std::string file_name;  // name as stored
  DType dtype = DType::BF16;
  uint64_t bytes = 0;
};

const char* SafetensorsDTypeName(DType t) { return t == DType::F32 ? "F32" : t == DType::F16 ? "F16" : "BF16"; }

// Little-endian bytes of the values rounded to dtype (round to nearest even, as PyTorch does).
std::vector<uint8_t> Encode(const std::vector<float>& v, DType dtype) {
  std::vector<uint8_t> out;
  if (dtype == DType::F32) {
    out.resize(v.size() * 4);
    for (size_t i = 0; i < v.size(); ++i) {
      uint32_t u;
      std::memcpy(&u, &v[i], 4);
      for (int b = 0; b < 4; ++b) out[4 * i + size_t(b)] = uint8_t(u >> (8 * b));
    }
    return out;
  }
  out.resize(v.size() * 2);
  for (size_t i = 0; i < v.size(); ++i) {
    const uint16_t h = dtype == DType::F16 ? FloatToHalf(v[i]) : FloatToBf16(v[i]);
    out[2 * i] = uint8_t(h);
    out[2 * i + 1] = uint8_t(h >> 8);
  }
  return out;
}

std::string ShardName(int i, int n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05d-of-%05d.safetensors", i + 1, n);
  return buf;
}

void WriteOrThrow(std::ofstream& out, const void* data, size_t n, const fs::path& p) {
  out.write(static_cast<const char*>(data), std::streamsize(n));
  if (!out) throw Error(p.string() + ": write failed");
}

// One .safetensors file: header (padded with spaces to 8 bytes, as the Rust writer does), data.
void WriteShard(const fs::path& path, const std::vector<const Planned*>& tensors, uint64_t seed) {
  ordered_json header;
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (const Planned* t : tensors) {
    header[t->file_name] = {{"dtype", SafetensorsDTypeName(t->dtype)},
                            {"shape", t->spec.shape},
                            {"data_offsets", {offset, offset + t->bytes}}};
    offset += t->bytes;
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(path.string() + ": cannot create");
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = uint8_t(uint64_t(h.size()) >> (8 * i));
  WriteOrThrow(out, len, 8, path);
  WriteOrThrow(out, h.data(), h.size(), path);
  for (const Planned* t : tensors) {
    const std::vector<uint8_t> le = Encode(RandomValues(t->spec, seed), t->dtype);
    WriteOrThrow(out, le.data(), le.size(), path);
  }
}

bool IsCheckpointFile(const std::string& name) {
  return name == "config.json" || name == "model.safetensors" || name == "model.safetensors.index.json" ||
         (name.rfind("model-", 0) == 0 && name.size() > 12 && name.compare(name.size() - 12, 12, ".safetensors") == 0);
}

// Refuses to overwrite an existing checkpoint unless --force; with it, removes only the files a
// checkpoint consists of (a stale index would otherwise make readers take the wrong layout).
void PrepareDir(const Options& o) {
  const fs::path dir(o.out);
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (!IsCheckpointFile(name)) continue;
    if (!o.force) throw Error(e.path().string() + ": already exists (use --force to overwrite)");
    fs::remove(e.path());
  }
}

}  // namespace

void WriteCheckpoint(const Options& o, const ordered_json& config_json, const ModelConfig& config) {
  PrepareDir(o);
  const fs::path dir(o.out);
  {
    std::ofstream out(dir / "config.json", std::ios::trunc);
    out << config_json.dump(2) << "\n";
    if (!out) throw Error((dir / "config.json").string() + ": write failed");
  }

  const std::string prefix = o.text_only ? "model." : "model.language_model.";
  std::vector<Planned> plan;
  uint64_t total = 0;
  ForEachTensor(config, [&](const TensorSpec& s) {
    Planned p{s, s.name == "lm_head.weight" ? s.name : prefix + s.name, TensorDType(o, s.name), 0};
    p.bytes = DTypeBytes(p.dtype, 1);
    for (int64_t d : s.shape) p.bytes *= uint64_t(d);
    total += p.bytes;
    plan.push_back(std::move(p));
  });

  if (o.shards <= 1) {
    std::vector<const Planned*> all;
    for (const Planned& p : plan) all.push_back(&p);
    WriteShard(dir / "model.safetensors", all, o.seed);
    return;
  }
  if (size_t(o.shards) > plan.size()) {
    throw Error("--shards " + std::to_string(o.shards) + " exceeds the number of tensors (" +
                std::to_string(plan.size()) + ")");
  }
  // Contiguous groups of about total/N bytes each; every shard gets at least one tensor.
  ordered_json weight_map = ordered_json::object();
  size_t next = 0;
  uint64_t written = 0;
  for (int s = 0; s < o.shards; ++s) {
    const uint64_t target = total * uint64_t(s + 1) / uint64_t(o.shards);
    const size_t must_leave = size_t(o.shards - s - 1);  // one tensor per later shard
    std::vector<const Planned*> group;
    while (next < plan.size() - must_leave &&
           (group.empty() || s == o.shards - 1 || written + plan[next].bytes <= target)) {
      written += plan[next].bytes;
      group.push_back(&plan[next++]);
    }
    const std::string name = ShardName(s, o.shards);
    for (const Planned* p : group) weight_map[p->file_name] = name;
    WriteShard(dir / name, group, o.seed);
  }
  ordered_json index;
  index["metadata"] = {{"total_size", total}};
  index["weight_map"] = weight_map;
  std::ofstream out(dir / "model.safetensors.index.json", std::ios::trunc);
  out << index.dump(2) << "\n";
  if (!out) throw Error((dir / "model.safetensors.index.json").string() + ": write failed");
}

}  // namespace vkg::mkckpt
