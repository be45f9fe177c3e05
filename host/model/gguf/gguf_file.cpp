// GGUF parsing and validation over a read-only mapping (layer: host/model). Format: see
// gguf_file.h. Block sizes are those of the ggml type definitions (values per block, bytes per
// block): plain floats 1 value; the legacy quants 32 values with f16 scales; the K-quants 256-value
// super-blocks.
#include "host/model/gguf/gguf_file.h"

#include <algorithm>
#include <cstring>
#include <regex>
#include <set>

#include "host/error.h"
#include "host/model/mapped_file.h"

namespace vkg {
namespace {

constexpr GgmlTypeInfo kTypes[] = {
    {GgmlType::F32, "F32", 1, 4},       {GgmlType::F16, "F16", 1, 2},       {GgmlType::BF16, "BF16", 1, 2},
    {GgmlType::Q4_0, "Q4_0", 32, 18},   {GgmlType::Q4_1, "Q4_1", 32, 20},   {GgmlType::Q5_0, "Q5_0", 32, 22},
    {GgmlType::Q5_1, "Q5_1", 32, 24},   {GgmlType::Q8_0, "Q8_0", 32, 34},   {GgmlType::Q8_1, "Q8_1", 32, 36},
    {GgmlType::Q2_K, "Q2_K", 256, 84},  {GgmlType::Q3_K, "Q3_K", 256, 110}, {GgmlType::Q4_K, "Q4_K", 256, 144},
    {GgmlType::Q5_K, "Q5_K", 256, 176}, {GgmlType::Q6_K, "Q6_K", 256, 210}, {GgmlType::Q8_K, "Q8_K", 256, 292},
};

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr int kMaxArrayDepth = 4;        // arrays of arrays nest no deeper (bounds recursion)
constexpr uint32_t kMaxDims = 4;         // ggml tensors have at most 4 dimensions

// Bytes one element of a metadata type occupies at the least (strings: their length field).
uint64_t MinBytes(GgufType t) {
  switch (t) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kBool: return 1;
    case GgufType::kU16:
    case GgufType::kI16: return 2;
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kF32: return 4;
    case GgufType::kU64:
    case GgufType::kI64:
    case GgufType::kF64:
    case GgufType::kString: return 8;
    case GgufType::kArray: return 12;  // element type + count
  }
  return 0;
}

bool KnownType(uint32_t t) { return t <= uint32_t(GgufType::kF64); }

// Bounds-checked little-endian reads from the mapping; every failure names the file and the place.
class Cursor {
 public:
  Cursor(std::span<const uint8_t> bytes, const std::string& name) : b_(bytes), name_(name) {}
  Error Fail(const std::string& what) const { return Error(name_ + ": " + what); }
  uint64_t pos() const { return pos_; }
  uint64_t left() const { return b_.size() - pos_; }
  void Need(uint64_t n, const char* what) const {
    if (n > left()) {
      throw Fail("truncated file: " + std::string(what) + " at byte " + std::to_string(pos_) + " needs " +
                 std::to_string(n) + " bytes, " + std::to_string(left()) + " left");
    }
  }
  template <typename T>
  T Read(const char* what) {
    Need(sizeof(T), what);
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string String(const char* what) {
    const uint64_t n = Read<uint64_t>(what);
    Need(n, what);
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), size_t(n));
    pos_ += n;
    return s;
  }

 private:
  std::span<const uint8_t> b_;
  const std::string& name_;
  uint64_t pos_ = 0;
};

GgufValue ReadValue(Cursor& c, GgufType type, int depth, const std::string& key);

void ReadArray(Cursor& c, GgufValue& v, int depth, const std::string& key) {
  const uint32_t elem = c.Read<uint32_t>("array element type");
  if (!KnownType(elem)) {
    throw c.Fail("metadata '" + key + "': unknown array element type " + std::to_string(elem));
  }
  v.elem = GgufType(elem);
  if (v.elem == GgufType::kArray && depth >= kMaxArrayDepth) {
    throw c.Fail("metadata '" + key + "': arrays nested deeper than " + std::to_string(kMaxArrayDepth));
  }
  const uint64_t n = c.Read<uint64_t>("array length");
  // Every element needs at least MinBytes: a count the rest of the file cannot hold is corrupt,
  // and is refused before anything is reserved for it.
  if (n > c.left() / MinBytes(v.elem)) {
    throw c.Fail("metadata '" + key + "': array of " + std::to_string(n) + " " + GgufTypeName(v.elem) +
                 " elements does not fit in the " + std::to_string(c.left()) + " bytes left");
  }
  switch (v.elem) {
    case GgufType::kString:
      v.strings.reserve(size_t(n));
      for (uint64_t k = 0; k < n; ++k) v.strings.push_back(c.String("array string"));
      break;
    case GgufType::kF32:
    case GgufType::kF64:
      v.floats.reserve(size_t(n));
      for (uint64_t k = 0; k < n; ++k) v.floats.push_back(ReadValue(c, v.elem, depth + 1, key).f);
      break;
    case GgufType::kArray:
      v.arrays.reserve(size_t(n));
      for (uint64_t k = 0; k < n; ++k) v.arrays.push_back(ReadValue(c, v.elem, depth + 1, key));
      break;
    default:
      v.ints.reserve(size_t(n));
      for (uint64_t k = 0; k < n; ++k) v.ints.push_back(ReadValue(c, v.elem, depth + 1, key).i);
  }
}

GgufValue ReadValue(Cursor& c, GgufType type, int depth, const std::string& key) {
  GgufValue v;
  v.type = type;
  switch (type) {
    case GgufType::kU8: v.i = c.Read<uint8_t>("u8 value"); break;
    case GgufType::kI8: v.i = c.Read<int8_t>("i8 value"); break;
    case GgufType::kU16: v.i = c.Read<uint16_t>("u16 value"); break;
    case GgufType::kI16: v.i = c.Read<int16_t>("i16 value"); break;
    case GgufType::kU32: v.i = c.Read<uint32_t>("u32 value"); break;
    case GgufType::kI32: v.i = c.Read<int32_t>("i32 value"); break;
    case GgufType::kU64: v.i = int64_t(c.Read<uint64_t>("u64 value")); break;
    case GgufType::kI64: v.i = c.Read<int64_t>("i64 value"); break;
    case GgufType::kF32: v.f = c.Read<float>("f32 value"); break;
    case GgufType::kF64: v.f = c.Read<double>("f64 value"); break;
    case GgufType::kBool: {
      const uint8_t b = c.Read<uint8_t>("bool value");
      if (b > 1) throw c.Fail("metadata '" + key + "': bool value " + std::to_string(b) + " is neither 0 nor 1");
      v.i = b;
      break;
    }
    case GgufType::kString: v.s = c.String("string value"); break;
    case GgufType::kArray: ReadArray(c, v, depth, key); break;
  }
  return v;
}

// a * b, or false when it overflows 64 bits.
bool MulOk(uint64_t a, uint64_t b, uint64_t* out) { return !__builtin_mul_overflow(a, b, out); }

}  // namespace

const char* GgufTypeName(GgufType t) {
  switch (t) {
    case GgufType::kU8: return "u8";
    case GgufType::kI8: return "i8";
    case GgufType::kU16: return "u16";
    case GgufType::kI16: return "i16";
    case GgufType::kU32: return "u32";
    case GgufType::kI32: return "i32";
    case GgufType::kF32: return "f32";
    case GgufType::kBool: return "bool";
    case GgufType::kString: return "string";
    case GgufType::kArray: return "array";
    case GgufType::kU64: return "u64";
    case GgufType::kI64: return "i64";
    case GgufType::kF64: return "f64";
  }
  return "?";
}

const GgmlTypeInfo* FindGgmlType(uint32_t type) {
  for (const auto& t : kTypes) {
    if (uint32_t(t.type) == type) return &t;
  }
  return nullptr;
}

size_t GgufValue::ArraySize() const { return ints.size() + floats.size() + strings.size() + arrays.size(); }

uint64_t GgufTensor::Elements() const {
  uint64_t n = 1;
  for (uint64_t d : ne) n *= d;  // checked against overflow when parsed
  return n;
}

std::vector<int64_t> GgufTensor::Shape() const { return std::vector<int64_t>(ne.rbegin(), ne.rend()); }

GgufFile::~GgufFile() = default;

std::unique_ptr<GgufFile> GgufFile::Open(const std::filesystem::path& path) {
  auto map = std::make_unique<MappedFile>(path);
  auto f = Parse(std::span<const uint8_t>(map->data(), map->size()), path.filename().string());
  f->map_ = std::move(map);
  return f;
}

namespace {

// A tensor record after its name and dimension count: the dimensions, the ggml type (whole blocks
// per row), the byte size, and the data offset (a multiple of `alignment`).
void ReadTensorShapeAndType(Cursor& c, uint32_t n_dims, uint64_t alignment, GgufTensor& t) {
  uint64_t elements = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    const uint64_t n = c.Read<uint64_t>("tensor dimension");
    if (n == 0 || !MulOk(elements, n, &elements) || elements > (uint64_t(1) << 50)) {
      throw c.Fail("tensor '" + t.name + "': dimension " + std::to_string(d) + " of " + std::to_string(n) +
                   " gives an impossible size");
    }
    t.ne.push_back(n);
  }
  const uint32_t type = c.Read<uint32_t>("tensor type");
  const GgmlTypeInfo* info = FindGgmlType(type);
  if (!info)
    throw c.Fail("tensor '" + t.name + "' has ggml type " + std::to_string(type) + ", which vkgemma does not know");
  t.type = info->type;
  if (t.ne[0] % info->block_values != 0) {
    throw c.Fail("tensor '" + t.name + "': rows of " + std::to_string(t.ne[0]) + " values are not whole " + info->name +
                 " blocks of " + std::to_string(info->block_values));
  }
  t.bytes = elements / info->block_values * info->block_bytes;
  t.offset = c.Read<uint64_t>("tensor offset");
  if (t.offset % alignment != 0) {
    throw c.Fail("tensor '" + t.name + "': data offset " + std::to_string(t.offset) +
                 " is not a multiple of the alignment " + std::to_string(alignment));
  }
}

// The data section starts at the next multiple of the alignment: every tensor's data must lie in
// it, no two overlapping; sets each tensor's data pointer.
void PlaceTensorData(const Cursor& c, std::span<const uint8_t> bytes, uint64_t alignment, uint64_t n_tensors,
                     std::vector<GgufTensor>& tensors) {
  const uint64_t data_start = (c.pos() + alignment - 1) / alignment * alignment;
  const uint64_t data_size = data_start <= bytes.size() ? bytes.size() - data_start : 0;
  if (n_tensors > 0 && data_start > bytes.size()) throw c.Fail("truncated file: no data section after the tensor list");
  std::vector<std::pair<uint64_t, const GgufTensor*>> spans;
  for (GgufTensor& t : tensors) {
    if (t.offset > data_size || t.bytes > data_size - t.offset) {
      throw c.Fail("tensor '" + t.name + "': data [" + std::to_string(t.offset) + ", " +
                   std::to_string(t.offset + t.bytes) + ") lies past the end of the " + std::to_string(data_size) +
                   "-byte data section");
    }
    t.data = bytes.data() + data_start + t.offset;
    spans.push_back({t.offset, &t});
  }
  std::sort(spans.begin(), spans.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t k = 1; k < spans.size(); ++k) {
    const GgufTensor& prev = *spans[k - 1].second;
    if (prev.offset + prev.bytes > spans[k].first) {
      throw c.Fail("tensors '" + prev.name + "' and '" + spans[k].second->name + "' overlap in the data section");
    }
  }
}

}  // namespace

std::unique_ptr<GgufFile> GgufFile::Parse(std::span<const uint8_t> bytes, const std::string& name) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->name_ = name;
  Cursor c(bytes, f->name_);
  if (bytes.size() < 4 || c.Read<uint32_t>("magic") != kMagic) throw c.Fail("not a GGUF file (no 'GGUF' magic)");
  f->version_ = c.Read<uint32_t>("version");
  if (f->version_ != 2 && f->version_ != 3) {
    throw c.Fail("GGUF version " + std::to_string(f->version_) + " is not supported (2 and 3 are)");
  }
  const uint64_t n_tensors = c.Read<uint64_t>("tensor count");
  const uint64_t n_kv = c.Read<uint64_t>("metadata count");
  // A key-value pair takes at least 13 bytes (key length, type, a one-byte value), a tensor
  // record 28 (name length, n_dims, type, offset): counts beyond that are corrupt.
  if (n_kv > c.left() / 13) {
    throw c.Fail("metadata count " + std::to_string(n_kv) + " cannot fit in a file of " + std::to_string(bytes.size()) +
                 " bytes");
  }
  if (n_tensors > c.left() / 28) {
    throw c.Fail("tensor count " + std::to_string(n_tensors) + " cannot fit in a file of " +
                 std::to_string(bytes.size()) + " bytes");
  }
  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key = c.String("metadata key");
    const uint32_t type = c.Read<uint32_t>("metadata type");
    if (!KnownType(type)) throw c.Fail("metadata '" + key + "': unknown value type " + std::to_string(type));
    GgufValue v = ReadValue(c, GgufType(type), 0, key);
    if (!f->metadata_.emplace(key, std::move(v)).second) throw c.Fail("metadata key '" + key + "' appears twice");
  }
  if (const GgufValue* a = f->Find("general.alignment")) {
    const bool integer = a->type == GgufType::kU32 || a->type == GgufType::kU64 || a->type == GgufType::kI32;
    if (!integer || a->i <= 0 || a->i > (1 << 20) || (a->i & (a->i - 1)) != 0) {
      throw c.Fail("general.alignment must be a power of two up to 1 MiB, got " +
                   (integer ? std::to_string(a->i) : std::string("a ") + GgufTypeName(a->type)));
    }
    f->alignment_ = uint64_t(a->i);
  }

  std::set<std::string> names;
  f->tensors_.reserve(size_t(n_tensors));
  for (uint64_t k = 0; k < n_tensors; ++k) {
    GgufTensor t;
    t.name = c.String("tensor name");
    if (!names.insert(t.name).second) throw c.Fail("tensor '" + t.name + "' appears twice");
    const uint32_t n_dims = c.Read<uint32_t>("tensor dimension count");
    if (n_dims == 0 || n_dims > kMaxDims) {
      throw c.Fail("tensor '" + t.name + "': " + std::to_string(n_dims) + " dimensions (1 to 4 allowed)");
    }
    ReadTensorShapeAndType(c, n_dims, f->alignment_, t);
    f->tensors_.push_back(std::move(t));
  }

  PlaceTensorData(c, bytes, f->alignment_, n_tensors, f->tensors_);
  return f;
}

const GgufValue* GgufFile::Find(const std::string& key) const {
  auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

namespace {
const GgufValue& Need(const GgufFile& f, const std::string& key) {
  const GgufValue* v = f.Find(key);
  if (!v) throw Error(f.name() + ": metadata key '" + key + "' is missing");
  return *v;
}
Error WrongType(const GgufFile& f, const std::string& key, const GgufValue& v, const char* want) {
  return Error(f.name() + ": metadata '" + key + "' is a " + GgufTypeName(v.type) + ", expected " + want);
}
}  // namespace

std::string GgufFile::GetString(const std::string& key) const {
  const GgufValue& v = Need(*this, key);
  if (v.type != GgufType::kString) throw WrongType(*this, key, v, "string");
  return v.s;
}

int64_t GgufFile::GetInt(const std::string& key) const {
  const GgufValue& v = Need(*this, key);
  switch (v.type) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kU16:
    case GgufType::kI16:
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kU64:
    case GgufType::kI64: return v.i;
    default: throw WrongType(*this, key, v, "integer");
  }
}

double GgufFile::GetFloat(const std::string& key) const {
  const GgufValue& v = Need(*this, key);
  if (v.type != GgufType::kF32 && v.type != GgufType::kF64) throw WrongType(*this, key, v, "float");
  return v.f;
}

bool GgufFile::GetBool(const std::string& key) const {
  const GgufValue& v = Need(*this, key);
  if (v.type != GgufType::kBool) throw WrongType(*this, key, v, "bool");
  return v.i != 0;
}

bool IsGgufPath(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
  return ext == ".gguf";
}

GgufModel GgufModel::Open(const std::filesystem::path& path) {
  GgufModel m;
  m.parts_.push_back(GgufFile::Open(path));
  // "<stem>-00001-of-00003.gguf": the first of three parts, the others beside it.
  static const std::regex kSplit(R"((.*)-(\d{5})-of-(\d{5})\.gguf)", std::regex::icase);
  std::smatch match;
  const std::string file = path.filename().string();
  if (std::regex_match(file, match, kSplit)) {
    const int part = std::stoi(match[2].str()), count = std::stoi(match[3].str());
    if (part != 1) {
      throw Error(file + ": part " + std::to_string(part) + " of a split model; open its first part (" +
                  match[1].str() + "-00001-of-" + match[3].str() + ".gguf)");
    }
    if (count < 1) throw Error(file + ": a split model of " + std::to_string(count) + " parts");
    for (int k = 2; k <= count; ++k) {
      char suffix[32];
      std::snprintf(suffix, sizeof suffix, "-%05d-of-%05d.gguf", k, count);
      const std::filesystem::path p = path.parent_path() / (match[1].str() + suffix);
      if (!std::filesystem::exists(p)) {
        throw Error(file + ": part " + std::to_string(k) + " of " + std::to_string(count) + " (" +
                    p.filename().string() + ") is missing");
      }
      m.parts_.push_back(GgufFile::Open(p));
    }
  }
  // split.count, where a part states it, must agree with the parts found.
  if (const GgufValue* n = m.first().Find("split.count")) {
    if (n->i != int64_t(m.parts_.size())) {
      throw Error(file + ": split.count says " + std::to_string(n->i) + " parts, " + std::to_string(m.parts_.size()) +
                  " found (name the first part, '-00001-of-0000N.gguf')");
    }
  }
  for (const auto& p : m.parts_) {
    for (const GgufTensor& t : p->tensors()) {
      if (!m.tensors_.emplace(t.name, &t).second) {
        throw Error(p->name() + ": tensor '" + t.name + "' is also in an earlier part");
      }
    }
  }
  return m;
}

const GgufTensor* GgufModel::FindTensor(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : it->second;
}

}  // namespace vkg
