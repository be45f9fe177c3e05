// DecodeAudio: WAV and FLAC through Debian's libsndfile, MP3 through libmpg123 (decode_mp3.cpp),
// from memory or a file, without reading more than the 30 s the model hears (layer: host/audio).
//
// Why libsndfile: it is what Python's soundfile wraps, and librosa.load (Hugging Face's audio
// loading) reads WAV and FLAC through soundfile, so the samples here are the ones HF's users
// get: PCM divided by 2^(bits-1) (8-bit unsigned centred on 128), floats as stored.
// The format is recognised by the first bytes, not the name; other formats libsndfile knows (AIFF,
// AU, raw ...) are refused, which keeps the fuzzed surface to the three that matter. Ogg is refused
// too: libsndfile 1.2.0 leaks libvorbis state on a damaged Ogg Vorbis file (found by
// tests/fuzz/audio_fuzz.cpp in its first 50 executions), and a server must not leak per request.
#include <sndfile.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "host/audio/audio_input.h"
#include "host/audio/decoders.h"
#include "host/error.h"

namespace vkg::audio {
namespace detail {

int64_t SourceReadBytes(Source& s, void* dst, int64_t count) {
  if (count <= 0 || s.pos >= s.size) return 0;
  const int64_t n = std::min(count, s.size - s.pos);
  if (s.file) {
    if (std::fseek(s.file, long(s.pos), SEEK_SET) != 0) return 0;
    const size_t got = std::fread(dst, 1, size_t(n), s.file);
    s.pos += int64_t(got);
    return int64_t(got);
  }
  std::memcpy(dst, s.bytes.data() + s.pos, size_t(n));
  s.pos += n;
  return n;
}

int64_t SourceSeekTo(Source& s, int64_t offset, int whence) {
  int64_t target = offset;
  if (whence == SEEK_CUR) target = s.pos + offset;
  if (whence == SEEK_END) target = s.size + offset;
  if (target < 0) return -1;
  s.pos = target;
  return s.pos;
}

}  // namespace detail
namespace {

using detail::Source;

enum class Container { kUnknown, kWav, kFlac, kMp3 };

const char* ContainerName(Container c) {
  switch (c) {
    case Container::kWav: return "WAV";
    case Container::kFlac: return "FLAC";
    case Container::kMp3: return "MP3";
    default: return "unknown";
  }
}

Container Sniff(std::span<const uint8_t> head) {
  const auto starts = [&](const char* magic) {
    const size_t n = std::strlen(magic);
    return head.size() >= n && std::memcmp(head.data(), magic, n) == 0;
  };
  if ((starts("RIFF") || starts("RIFX") || starts("RF64")) && head.size() >= 12 &&
      std::memcmp(head.data() + 8, "WAVE", 4) == 0) {
    return Container::kWav;
  }
  if (starts("fLaC")) return Container::kFlac;
  if (starts("ID3")) return Container::kMp3;
  // An MPEG audio frame header: 11 sync bits, then a version other than "reserved" (01) and a
  // layer other than "reserved" (00).
  if (head.size() >= 2 && head[0] == 0xFF && (head[1] & 0xE0) == 0xE0 && (head[1] & 0x18) != 0x08 &&
      (head[1] & 0x06) != 0) {
    return Container::kMp3;
  }
  return Container::kUnknown;
}

// libsndfile's virtual I/O over the Source.
sf_count_t SourceLength(void* user) { return static_cast<Source*>(user)->size; }
sf_count_t SourceSeek(sf_count_t offset, int whence, void* user) {
  return SourceSeekTo(*static_cast<Source*>(user), offset, whence);
}
sf_count_t SourceRead(void* dst, sf_count_t count, void* user) {
  return SourceReadBytes(*static_cast<Source*>(user), dst, count);
}
sf_count_t SourceWrite(const void*, sf_count_t, void*) { return 0; }  // read-only
sf_count_t SourceTell(void* user) { return static_cast<Source*>(user)->pos; }

// A RIFF/WAVE file whose data chunk promises more bytes than follow it was cut short (libsndfile
// reads what is there and says nothing). 0 and 0xFFFFFFFF are the "length unknown" sizes that
// streaming writers (ffmpeg to a pipe) leave, so those are not errors.
void CheckWavDataChunk(Source& source, const std::string& what) {
  uint8_t head[12];
  source.pos = 0;
  if (SourceRead(head, 12, &source) != 12 || std::memcmp(head, "RIFF", 4) != 0) return;  // RIFX, RF64: libsndfile
  sf_count_t at = 12;
  for (int chunk = 0; chunk < 4096 && at + 8 <= source.size; ++chunk) {
    uint8_t h[8];
    source.pos = at;
    if (SourceRead(h, 8, &source) != 8) return;
    const uint32_t size = uint32_t(h[4]) | uint32_t(h[5]) << 8 | uint32_t(h[6]) << 16 | uint32_t(h[7]) << 24;
    if (std::memcmp(h, "data", 4) == 0) {
      const sf_count_t held = source.size - (at + 8);
      if (size != 0 && size != 0xFFFFFFFFu && sf_count_t(size) > held) {
        throw Error(what + ": truncated (its data chunk promises " + std::to_string(size) + " bytes, the file holds " +
                    std::to_string(held) + ")");
      }
      return;
    }
    at += 8 + sf_count_t(size) + (size & 1);
  }
}

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};

// One line from libsndfile's message ("Error in WAV file. No 'data' chunk marker." and the like).
std::string SndfileMessage(SNDFILE* f) {
  std::string m = sf_strerror(f);
  std::replace(m.begin(), m.end(), '\n', ' ');
  while (!m.empty() && m.back() == ' ') m.pop_back();
  return m;
}

DecodedAudio Decode(Source& source, std::span<const uint8_t> head, const std::string& what) {
  if (source.size == 0) throw Error(what + ": the file is empty");
  const Container container = Sniff(head);
  if (container == Container::kUnknown) {
    throw Error(what + ": not an audio file vkgemma reads (WAV, FLAC or MP3)");
  }
  if (container == Container::kMp3) return detail::DecodeMp3(source, kMaxSamples / kSampleRate, what);
  if (container == Container::kWav) CheckWavDataChunk(source, what);
  source.pos = 0;
  SF_VIRTUAL_IO io{SourceLength, SourceSeek, SourceRead, SourceWrite, SourceTell};
  SF_INFO info{};
  std::unique_ptr<SNDFILE, SndfileCloser> snd(sf_open_virtual(&io, SFM_READ, &info, &source));
  if (!snd) {
    throw Error(what + ": cannot decode this " + std::string(ContainerName(container)) + " file (" +
                SndfileMessage(nullptr) + ")");
  }
  if (info.channels <= 0 || info.channels > kMaxChannels) {
    throw Error(what + ": " + std::to_string(info.channels) + " channels (vkgemma reads 1 to " +
                std::to_string(kMaxChannels) + ")");
  }
  if (info.samplerate < kMinSourceRate || info.samplerate > kMaxSourceRate) {
    throw Error(what + ": sample rate " + std::to_string(info.samplerate) + " Hz (vkgemma reads " +
                std::to_string(kMinSourceRate) + " to " + std::to_string(kMaxSourceRate) + " Hz)");
  }
  DecodedAudio out;
  out.rate = info.samplerate;
  out.channels = info.channels;
  // Containers that know their length say it; an MP3 without a Xing/VBRI header gives an estimate
  // or SF_COUNT_MAX, and nothing is allocated from it.
  const bool length_known = info.frames > 0 && info.frames < SF_COUNT_MAX;
  if (length_known) out.source_seconds = double(info.frames) / info.samplerate;

  // The model hears 30 s at 16 kHz: read that much of the source plus a quarter second for the
  // resampler's filter (so the kept samples equal those of resampling the whole file).
  const int64_t cap = int64_t(kMaxSamples / kSampleRate) * info.samplerate + info.samplerate / 4;
  const int64_t expected = length_known ? std::min<int64_t>(info.frames, cap) : cap;
  out.samples.reserve(size_t(length_known ? expected : std::min<int64_t>(cap, int64_t(1) << 20)));
  constexpr sf_count_t kChunkFrames = 4096;
  std::vector<float> chunk(size_t(kChunkFrames) * size_t(info.channels));
  const float inv_channels = 1.0f / float(info.channels);
  while (int64_t(out.samples.size()) < cap) {
    const sf_count_t want = std::min<sf_count_t>(kChunkFrames, sf_count_t(cap - int64_t(out.samples.size())));
    const sf_count_t got = sf_readf_float(snd.get(), chunk.data(), want);
    if (got <= 0) break;
    for (sf_count_t f = 0; f < got; ++f) {
      const float* frame = &chunk[size_t(f) * size_t(info.channels)];
      float sum = 0;
      for (int c = 0; c < info.channels; ++c) sum += frame[c];
      const float mono = info.channels == 1 ? sum : sum * inv_channels;
      if (!std::isfinite(mono)) {
        throw Error(what + ": sample " + std::to_string(out.samples.size()) + " is not a finite number");
      }
      out.samples.push_back(mono);
    }
    if (got < want) break;
  }
  if (sf_error(snd.get()) != SF_ERR_NO_ERROR) {
    throw Error(what + ": the " + std::string(ContainerName(container)) + " data is cut short or corrupt (" +
                SndfileMessage(snd.get()) + ")");
  }
  if (out.samples.empty()) throw Error(what + ": the file holds no audio samples");
  // FLAC states its length: a stream that ends early was cut short (a partial download); WAV's
  // data chunk was checked before opening (libsndfile trims its length to the file).
  if (length_known && container == Container::kFlac && int64_t(out.samples.size()) < expected) {
    throw Error(what + ": truncated (the header promises " + std::to_string(info.frames) + " samples, the file holds " +
                std::to_string(out.samples.size()) + ")");
  }
  out.truncated = int64_t(out.samples.size()) >= cap && (!length_known || info.frames > cap);
  return out;
}

}  // namespace

DecodedAudio DecodeAudio(std::span<const uint8_t> bytes, const std::string& what) {
  Source source;
  source.bytes = bytes;
  source.size = sf_count_t(bytes.size());
  return Decode(source, bytes.first(std::min<size_t>(bytes.size(), 16)), what);
}

DecodedAudio DecodeAudioFile(const std::filesystem::path& path) {
  const std::string what = path.string();
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) throw Error(what + ": no such file");
  if (!std::filesystem::is_regular_file(status)) throw Error(what + ": not a regular file");
  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(what.c_str(), "rb"));
  if (!file) throw Error(what + ": cannot open (" + std::strerror(errno) + ")");
  Source source;
  source.file = file.get();
  if (std::fseek(file.get(), 0, SEEK_END) != 0) throw Error(what + ": cannot seek");
  source.size = sf_count_t(std::ftell(file.get()));
  if (source.size < 0) throw Error(what + ": cannot tell its size");
  uint8_t head[16] = {};
  std::fseek(file.get(), 0, SEEK_SET);
  const size_t n = std::fread(head, 1, sizeof head, file.get());
  return Decode(source, std::span<const uint8_t>(head, n), what);
}

}  // namespace vkg::audio
