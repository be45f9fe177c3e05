// data: URL decoding for inline images (layer: host/image). The input is attacker-controlled: every
// index is checked, the output size is bounded before anything is allocated, and nothing throws.
#include "host/image/data_url.h"

#include <cctype>

namespace vkg::image {
namespace {

int Base64Value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;  // '-' and '_': the URL-safe alphabet
  if (c == '/' || c == '_') return 63;
  return -1;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

DataUrlResult Fail(DataUrlError e, std::string message) {
  DataUrlResult r;
  r.error = e;
  r.message = std::move(message);
  return r;
}

// Base64 (whitespace and padding allowed; both alphabets) into at most max_bytes bytes, bounded
// before anything is allocated.
DataUrlResult Base64Bytes(std::string_view data, size_t max_bytes, const std::string& too_large,
                          const std::string& malformed) {
  // At most 3 bytes per 4 characters: bounded before allocating.
  if (data.size() / 4 * 3 > max_bytes + 3) return Fail(DataUrlError::kTooLarge, too_large);
  DataUrlResult r;
  r.bytes.reserve(data.size() / 4 * 3 + 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t padding = 0;
  for (const char ch : data) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    const int v = Base64Value(c);
    if (v < 0 || padding > 0) return Fail(DataUrlError::kBadBase64, malformed);
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      r.bytes.push_back(uint8_t(acc >> bits));
      acc &= (1u << bits) - 1;
    }
  }
  if (padding > 2 || bits >= 6) return Fail(DataUrlError::kBadBase64, malformed);
  if (r.bytes.size() > max_bytes) return Fail(DataUrlError::kTooLarge, too_large);
  return r;
}

}  // namespace

DataUrlResult DecodeDataUrl(std::string_view url, size_t max_bytes) {
  if (StartsWithNoCase(url, "http://") || StartsWithNoCase(url, "https://")) {
    return Fail(DataUrlError::kRemote,
                "remote image URLs are not fetched by this server; send the image inline as a data: URL "
                "(data:image/png;base64,...)");
  }
  if (!StartsWithNoCase(url, "data:")) {
    return Fail(DataUrlError::kNotDataUrl, "an image URL must be a data: URL (data:image/png;base64,...)");
  }
  const size_t comma = url.find(',');
  if (comma == std::string_view::npos)
    return Fail(DataUrlError::kNotDataUrl, "the data: URL has no ',' before its data");
  const std::string_view meta = url.substr(5, comma - 5);
  const size_t semicolon = meta.find(';');
  std::string_view params = semicolon == std::string_view::npos ? std::string_view() : meta.substr(semicolon);
  bool base64 = false;
  while (!params.empty()) {  // ";charset=...;base64"
    params.remove_prefix(1);
    const size_t next = params.find(';');
    const std::string_view p = params.substr(0, next);
    if (p.size() == 6 && StartsWithNoCase(p, "base64")) base64 = true;
    params = next == std::string_view::npos ? std::string_view() : params.substr(next);
  }
  if (!base64) return Fail(DataUrlError::kNotBase64, "the data: URL must be base64 (data:image/png;base64,...)");

  DataUrlResult r = Base64Bytes(url.substr(comma + 1), max_bytes,
                                "the image is over the limit of " + std::to_string(max_bytes) + " bytes",
                                "the data: URL's base64 data is malformed");
  if (r.error == DataUrlError::kNone) {
    r.media_type = std::string(semicolon == std::string_view::npos ? meta : meta.substr(0, semicolon));
  }
  return r;
}

DataUrlResult DecodeBase64(std::string_view data, size_t max_bytes, const std::string& what) {
  return Base64Bytes(data, max_bytes, what + " is over the limit of " + std::to_string(max_bytes) + " bytes",
                     what + " is not valid base64");
}

}  // namespace vkg::image
