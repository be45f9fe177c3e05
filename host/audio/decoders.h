// Shared by the decoders of host/audio (internal): the byte source (memory or an open file) that
// libsndfile's and libmpg123's I/O callbacks read, and the decoders behind DecodeAudio.
#pragma once
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include "host/audio/audio_input.h"

namespace vkg::audio::detail {

struct Source {
  std::span<const uint8_t> bytes;  // memory source
  std::FILE* file = nullptr;       // file source
  int64_t size = 0;
  int64_t pos = 0;
};
// fread/fseek semantics over a Source: a read returns the bytes copied (0 at the end), a seek the
// new position or -1 (positions past the end are allowed; reads there return 0).
int64_t SourceReadBytes(Source& source, void* dst, int64_t count);
int64_t SourceSeekTo(Source& source, int64_t offset, int whence);

// MP3 (decode_mp3.cpp): at most `seconds_cap` seconds (+ a quarter for the resampler) from the start.
DecodedAudio DecodeMp3(Source& source, int64_t seconds_cap, const std::string& what);

}  // namespace vkg::audio::detail
