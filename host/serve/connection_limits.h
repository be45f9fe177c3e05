// How long and how much one client connection may take to send a request (layer: host/serve;
// enforced by connection_stream.h, set by `vkgemma serve`'s options).
#pragma once
#include <chrono>
#include <cstddef>

namespace vkg::serve {

struct ConnectionLimits {
  std::chrono::milliseconds request_timeout{30000};  // a whole request, from its first byte
  std::chrono::milliseconds idle_timeout{5000};      // keep-alive: waiting for the next request
  std::chrono::milliseconds write_timeout{30000};    // one write waiting for the client to read
  size_t max_head_bytes = 64 << 10;                  // request line and headers together
};

}  // namespace vkg::serve
