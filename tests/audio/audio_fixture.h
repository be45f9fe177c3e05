// Test helpers for tests/audio: the integer clip generator of tests/data/gemma4-audio/make_fixtures.py
// (the same 16-bit samples in C++ and Python, so long clips need no stored WAV), a WAV writer for
// every sample format the decoder reads, and the fixture files.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vkg::audio::testing {

inline std::filesystem::path DataDir() { return std::filesystem::path(VKG_TEST_DATA_DIR) / "gemma4-audio"; }

inline nlohmann::json Manifest() {
  std::ifstream in(DataDir() / "manifest.json");
  return nlohmann::json::parse(in);
}

inline std::vector<float> ReadF32(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

inline std::vector<uint8_t> ReadBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// make_fixtures.py's clip(n, seed): a sawtooth, an integer chirp and LCG noise.
inline std::vector<int16_t> Clip(int64_t n, uint32_t seed) {
  std::vector<int16_t> out(static_cast<size_t>(n));
  uint32_t x = seed;
  for (int64_t i = 0; i < n; ++i) {
    x = 1664525u * x + 1013904223u;
    const int64_t noise = int64_t((x >> 20) & 0x3FF) - 512;
    const int64_t saw = ((i * 37) % 2000 - 1000) * 8;
    const int64_t chirp = ((i * i / 4000) % 500 - 250) * 4;
    out[size_t(i)] = int16_t(saw + chirp + noise);
  }
  return out;
}

enum class WavFormat { kU8, kS16, kS24, kS32, kF32 };

// A canonical RIFF/WAVE file: `frames` interleaved as [frame][channel], each value a 16-bit sample
// widened to the format (24/32-bit shift it up, float divides by 32768: all decode to the same
// floats as 16-bit); 8-bit keeps the top byte.
inline std::vector<uint8_t> MakeWav(const std::vector<int16_t>& interleaved, int channels, int rate,
                                    WavFormat format = WavFormat::kS16) {
  const int bytes_per = format == WavFormat::kU8    ? 1
                        : format == WavFormat::kS16 ? 2
                        : format == WavFormat::kS24 ? 3
                                                    : 4;
  const uint32_t data_size = uint32_t(interleaved.size() * size_t(bytes_per));
  std::vector<uint8_t> w;
  const auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) w.push_back(uint8_t(v >> (8 * i)));
  };
  const auto u16 = [&](uint32_t v) {
    w.push_back(uint8_t(v));
    w.push_back(uint8_t(v >> 8));
  };
  const auto tag = [&](const char* t) {
    for (int i = 0; i < 4; ++i) w.push_back(uint8_t(t[i]));
  };
  tag("RIFF");
  u32(36 + data_size);
  tag("WAVE");
  tag("fmt ");
  u32(16);
  u16(format == WavFormat::kF32 ? 3 : 1);
  u16(uint32_t(channels));
  u32(uint32_t(rate));
  u32(uint32_t(rate * channels * bytes_per));
  u16(uint32_t(channels * bytes_per));
  u16(uint32_t(bytes_per * 8));
  tag("data");
  u32(data_size);
  for (int16_t s : interleaved) {
    switch (format) {
      case WavFormat::kU8: w.push_back(uint8_t((s >> 8) + 128)); break;
      case WavFormat::kS16: u16(uint16_t(s)); break;
      case WavFormat::kS24: {
        const uint32_t v = uint32_t(int32_t(s) * 256);
        w.push_back(uint8_t(v)), w.push_back(uint8_t(v >> 8)), w.push_back(uint8_t(v >> 16));
        break;
      }
      case WavFormat::kS32: u32(uint32_t(int32_t(s) * 65536)); break;
      case WavFormat::kF32: {
        const float f = float(s) / 32768.0f;
        uint32_t v;
        std::memcpy(&v, &f, 4);
        u32(v);
        break;
      }
    }
  }
  return w;
}

inline std::filesystem::path TempPath(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("vkg-audio-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

inline std::filesystem::path WriteFile(const std::string& name, const std::vector<uint8_t>& bytes) {
  const auto path = TempPath(name);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  return path;
}

}  // namespace vkg::audio::testing
