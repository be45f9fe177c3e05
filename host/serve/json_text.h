// JSON text for responses that never throws on what a client sent (layer: host/serve). A request
// path, query or header may hold any bytes (percent-decoded %ff, %c0 ...), and so may generated
// text cut in the middle of a UTF-8 sequence; nlohmann::json::dump() throws on invalid UTF-8 by
// default, which in an error handler ends the process. Here invalid bytes become U+FFFD.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace vkg::serve {

inline std::string JsonText(const nlohmann::json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

}  // namespace vkg::serve
