// GGUF v3 writer (layer: host/model).
#include "host/model/gguf/gguf_writer.h"

#include <cstring>
#include <fstream>

#include "host/error.h"

namespace vkg {

void GgufWriter::PutString(const std::string& s) {
  Put<uint64_t>(s.size());
  Raw(s.data(), s.size());
}

void GgufWriter::Key(const std::string& key, GgufType type) {
  PutString(key);
  Put<uint32_t>(uint32_t(type));
  ++n_kv_;
}

void GgufWriter::PutValue(GgufType type, const GgufValue& v) {
  switch (type) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kBool: Put<uint8_t>(uint8_t(v.i)); break;
    case GgufType::kU16:
    case GgufType::kI16: Put<uint16_t>(uint16_t(v.i)); break;
    case GgufType::kU32:
    case GgufType::kI32: Put<uint32_t>(uint32_t(v.i)); break;
    case GgufType::kU64:
    case GgufType::kI64: Put<uint64_t>(uint64_t(v.i)); break;
    case GgufType::kF32: Put<float>(float(v.f)); break;
    case GgufType::kF64: Put<double>(v.f); break;
    case GgufType::kString: PutString(v.s); break;
    case GgufType::kArray: {
      Put<uint32_t>(uint32_t(v.elem));
      Put<uint64_t>(v.ArraySize());
      GgufValue e;
      for (size_t k = 0; k < v.ArraySize(); ++k) {
        switch (v.elem) {
          case GgufType::kString: e.s = v.strings[k]; break;
          case GgufType::kF32:
          case GgufType::kF64: e.f = v.floats[k]; break;
          case GgufType::kArray: e = v.arrays[k]; break;
          default: e.i = v.ints[k]; break;
        }
        PutValue(v.elem, e);
      }
      break;
    }
  }
}

GgufWriter& GgufWriter::Value(const std::string& key, const GgufValue& value) {
  Key(key, value.type);
  PutValue(value.type, value);
  return *this;
}

GgufWriter& GgufWriter::String(const std::string& key, const std::string& value) {
  Key(key, GgufType::kString);
  PutString(value);
  return *this;
}
GgufWriter& GgufWriter::U32(const std::string& key, uint32_t value) {
  Key(key, GgufType::kU32);
  Put(value);
  return *this;
}
GgufWriter& GgufWriter::I32(const std::string& key, int32_t value) {
  Key(key, GgufType::kI32);
  Put(value);
  return *this;
}
GgufWriter& GgufWriter::U64(const std::string& key, uint64_t value) {
  Key(key, GgufType::kU64);
  Put(value);
  return *this;
}
GgufWriter& GgufWriter::F32(const std::string& key, float value) {
  Key(key, GgufType::kF32);
  Put(value);
  return *this;
}
GgufWriter& GgufWriter::Bool(const std::string& key, bool value) {
  Key(key, GgufType::kBool);
  Put<uint8_t>(value ? 1 : 0);
  return *this;
}

GgufWriter& GgufWriter::Strings(const std::string& key, const std::vector<std::string>& values) {
  Key(key, GgufType::kArray);
  Put<uint32_t>(uint32_t(GgufType::kString));
  Put<uint64_t>(values.size());
  for (const auto& s : values) PutString(s);
  return *this;
}
GgufWriter& GgufWriter::I32s(const std::string& key, const std::vector<int32_t>& values) {
  Key(key, GgufType::kArray);
  Put<uint32_t>(uint32_t(GgufType::kI32));
  Put<uint64_t>(values.size());
  for (int32_t v : values) Put(v);
  return *this;
}
GgufWriter& GgufWriter::U32s(const std::string& key, const std::vector<uint32_t>& values) {
  Key(key, GgufType::kArray);
  Put<uint32_t>(uint32_t(GgufType::kU32));
  Put<uint64_t>(values.size());
  for (uint32_t v : values) Put(v);
  return *this;
}
GgufWriter& GgufWriter::F32s(const std::string& key, const std::vector<float>& values) {
  Key(key, GgufType::kArray);
  Put<uint32_t>(uint32_t(GgufType::kF32));
  Put<uint64_t>(values.size());
  for (float v : values) Put(v);
  return *this;
}
GgufWriter& GgufWriter::Bools(const std::string& key, const std::vector<bool>& values) {
  Key(key, GgufType::kArray);
  Put<uint32_t>(uint32_t(GgufType::kBool));
  Put<uint64_t>(values.size());
  for (bool v : values) Put<uint8_t>(v ? 1 : 0);
  return *this;
}

GgufWriter& GgufWriter::Tensor(const std::string& name, GgmlType type, const std::vector<uint64_t>& ne,
                               std::span<const uint8_t> data) {
  const GgmlTypeInfo* info = FindGgmlType(uint32_t(type));
  uint64_t n = 1;
  for (uint64_t d : ne) n *= d;
  if (!info || ne.empty() || ne[0] % info->block_values != 0 ||
      n / info->block_values * info->block_bytes != data.size()) {
    throw Error("GgufWriter: tensor '" + name + "' has " + std::to_string(data.size()) +
                " bytes, which do not match its type and shape");
  }
  tensors_.push_back({name, type, ne, std::vector<uint8_t>(data.begin(), data.end())});
  return *this;
}

std::vector<uint8_t> GgufWriter::Bytes() const {
  std::vector<uint8_t> out;
  auto raw = [&out](const void* p, size_t n) {
    const size_t at = out.size();
    out.resize(at + n);
    if (n) std::memcpy(out.data() + at, p, n);
  };
  auto u32 = [&](uint32_t v) { raw(&v, 4); };
  auto u64 = [&](uint64_t v) { raw(&v, 8); };
  auto pad = [&](size_t to) { out.resize((out.size() + to - 1) / to * to, 0); };
  u32(0x46554747);  // "GGUF"
  u32(3);
  u64(tensors_.size());
  // general.alignment is written when it is not the default, as llama.cpp's writer does.
  u64(n_kv_ + (alignment_ != 32 ? 1 : 0));
  raw(kv_.data(), kv_.size());
  if (alignment_ != 32) {
    const std::string key = "general.alignment";
    u64(key.size());
    raw(key.data(), key.size());
    u32(uint32_t(GgufType::kU32));
    u32(alignment_);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    u64(t.name.size());
    raw(t.name.data(), t.name.size());
    u32(uint32_t(t.ne.size()));
    for (uint64_t d : t.ne) u64(d);
    u32(uint32_t(t.type));
    u64(offset);
    offset = (offset + t.data.size() + alignment_ - 1) / alignment_ * alignment_;
  }
  pad(alignment_);
  for (const auto& t : tensors_) {
    raw(t.data.data(), t.data.size());
    pad(alignment_);
  }
  return out;
}

void GgufWriter::Write(const std::filesystem::path& path) const {
  const std::vector<uint8_t> bytes = Bytes();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!out) throw Error(path.string() + ": cannot write");
}

}  // namespace vkg
