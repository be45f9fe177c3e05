// MP3 through libmpg123 directly (layer: host/audio). libsndfile 1.2 also reads MP3 through
// libmpg123, but leaves the library's console messages on ("Note: Illegal Audio-MPEG-Header ...
// Trying to resync" on stderr for a damaged file, which breaks the one-`error:`-line rule) and
// reports an undecodable stream as "File does not exist". Here the handle is quiet, decodes to
// float32 at the stream's own rate (gapless: LAME's encoder delay and padding removed, as
// soundfile/librosa give them) and stops at the sample cap.
#include <mpg123.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "host/audio/decoders.h"
#include "host/error.h"

namespace vkg::audio::detail {
namespace {

ssize_t HandleRead(void* user, void* dst, size_t count) {
  return ssize_t(SourceReadBytes(*static_cast<Source*>(user), dst, int64_t(count)));
}

off_t HandleSeek(void* user, off_t offset, int whence) {
  return off_t(SourceSeekTo(*static_cast<Source*>(user), int64_t(offset), whence));
}

struct HandleCloser {
  void operator()(mpg123_handle* h) const {
    mpg123_close(h);
    mpg123_delete(h);
  }
};

}  // namespace

DecodedAudio DecodeMp3(Source& source, int64_t seconds_cap, const std::string& what) {
  int err = MPG123_OK;
  std::unique_ptr<mpg123_handle, HandleCloser> mh(mpg123_new(nullptr, &err));
  if (!mh) throw Error(what + ": cannot start the MP3 decoder (" + mpg123_plain_strerror(err) + ")");
  mpg123_param(mh.get(), MPG123_ADD_FLAGS, MPG123_QUIET | MPG123_GAPLESS, 0.0);
  mpg123_format_none(mh.get());
  const long* rates = nullptr;
  size_t n_rates = 0;
  mpg123_rates(&rates, &n_rates);
  for (size_t i = 0; i < n_rates; ++i)
    mpg123_format(mh.get(), rates[i], MPG123_MONO | MPG123_STEREO, MPG123_ENC_FLOAT_32);
  source.pos = 0;
  if (mpg123_replace_reader_handle(mh.get(), HandleRead, HandleSeek, nullptr) != MPG123_OK ||
      mpg123_open_handle(mh.get(), &source) != MPG123_OK) {
    throw Error(what + ": cannot decode this MP3 file (" + mpg123_strerror(mh.get()) + ")");
  }
  long rate = 0;
  int channels = 0, encoding = 0;
  if (mpg123_getformat(mh.get(), &rate, &channels, &encoding) != MPG123_OK) {
    throw Error(what + ": cannot decode this MP3 file (no MPEG audio frame found)");
  }
  if (channels < 1 || channels > 2 || rate < kMinSourceRate || rate > kMaxSourceRate) {
    throw Error(what + ": cannot decode this MP3 file (" + std::to_string(channels) + " channels at " +
                std::to_string(rate) + " Hz)");
  }
  DecodedAudio out;
  out.rate = int(rate);
  out.channels = channels;
  const off_t length = mpg123_length(mh.get());  // from a Xing/Info header, else an estimate
  if (length > 0) out.source_seconds = double(length) / double(rate);
  const int64_t cap = seconds_cap * rate + rate / 4;
  std::vector<float> chunk(size_t(4096) * size_t(channels));
  while (int64_t(out.samples.size()) < cap) {
    size_t done = 0;
    const int rc = mpg123_read(mh.get(), chunk.data(), chunk.size() * sizeof(float), &done);
    const size_t frames = done / (sizeof(float) * size_t(channels));
    for (size_t f = 0; f < frames && int64_t(out.samples.size()) < cap; ++f) {
      const float mono = channels == 1 ? chunk[f] : (chunk[2 * f] + chunk[2 * f + 1]) * 0.5f;
      out.samples.push_back(std::isfinite(mono) ? mono : 0.0f);
    }
    if (rc == MPG123_DONE) break;
    if (rc == MPG123_NEW_FORMAT) {  // a stream changing rate or channels midway: keep what came before
      long r2 = 0;
      int c2 = 0, e2 = 0;
      mpg123_getformat(mh.get(), &r2, &c2, &e2);
      if (r2 != rate || c2 != channels) break;
      continue;
    }
    if (rc != MPG123_OK) {
      if (out.samples.empty()) throw Error(what + ": cannot decode this MP3 file (" + mpg123_strerror(mh.get()) + ")");
      break;  // a damaged tail: keep the audio before it, as players do
    }
  }
  out.truncated = int64_t(out.samples.size()) >= cap;
  return out;
}

}  // namespace vkg::audio::detail
