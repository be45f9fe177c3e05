// Shared by the libFuzzer targets (tests/fuzz): the input written to a private file for the
// loaders that read paths, and the rule every target checks: a loader either returns or throws
// std::exception (the CLI prints it as one `error:` line); a crash, a sanitizer report, a leak or
// a hang is a finding.
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace vkg::fuzz {

// A per-process scratch directory (in /dev/shm when it exists: no disk writes per execution).
inline const std::filesystem::path& ScratchDir() {
  static const std::filesystem::path dir = [] {
    const std::filesystem::path base =
        std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    auto d = base / ("vkg-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

// Writes the input as `name` in the scratch directory and returns its path.
inline std::filesystem::path WriteInput(const uint8_t* data, size_t size, const std::string& name) {
  const auto path = ScratchDir() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return path;
}

}  // namespace vkg::fuzz
