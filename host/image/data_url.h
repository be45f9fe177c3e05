// Images sent inline as data: URLs (OpenAI's image_url content parts), decoded safely from hostile
// input (layer: host/image).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vkg::image {

// Why a URL was refused, so a server can answer with the right status.
enum class DataUrlError { kNone, kRemote, kNotDataUrl, kNotBase64, kBadBase64, kTooLarge };

struct DataUrlResult {
  DataUrlError error = DataUrlError::kNone;
  std::string message;         // one line, when error != kNone
  std::string media_type;      // "image/png" ... as the URL says (not trusted: decoding looks at the bytes)
  std::vector<uint8_t> bytes;  // the decoded file
};

// "data:[<media type>][;params];base64,<data>". Remote http(s) URLs and anything not base64 are
// refused; the decoded size is checked against max_bytes before decoding (from the text's length),
// so a huge URL costs no allocation. Base64 may hold whitespace (line breaks) and padding; other
// characters are refused. Never throws for bad input.
DataUrlResult DecodeDataUrl(std::string_view url, size_t max_bytes);

// Base64 data alone (OpenAI's input_audio "data"), with the same bounds and checks: kTooLarge or
// kBadBase64 with a message naming `what` ("'messages[0].content[1].input_audio.data'").
DataUrlResult DecodeBase64(std::string_view data, size_t max_bytes, const std::string& what);

}  // namespace vkg::image
