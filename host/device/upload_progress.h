// The callback a weight upload reports progress through (layer: host/device), without Vulkan, so
// the public engine header (host/runtime/engine.h) can take one.
#pragma once
#include <cstdint>
#include <functional>

namespace vkg {

// Progress of an upload: bytes of the checkpoint converted so far and the total.
using UploadProgress = std::function<void(uint64_t done, uint64_t total)>;

}  // namespace vkg
