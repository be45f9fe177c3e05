// RAII read-only mapping of a whole file (layer: host/model, CPU only). MAP_PRIVATE + PROT_READ:
// the user's file is never written. Shared by the safetensors and GGUF readers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>

namespace vkg {

class MappedFile {
 public:
  // Throws vkg::Error "<path>: cannot open (...)" / "not a regular file" / "mmap failed (...)".
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  int fd_ = -1;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace vkg
