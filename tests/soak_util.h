// Shared by the soak tests (tests/generate/soak_test.cpp, tests/serve/soak_test.cpp): what this
// process holds now — resident memory, open descriptors, device memory — so a long run can show
// that nothing grows after warm-up (layer: tests). Linux only (/proc/self).
#pragma once
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ostream>

#include "vk/buffer.h"

namespace vkg::test {

struct ProcessUsage {
  uint64_t rss_bytes = 0;  // resident set (/proc/self/statm, second field, in pages)
  uint64_t open_fds = 0;   // entries of /proc/self/fd
  vk::LiveAllocations device;
};

inline ProcessUsage MeasureProcess() {
  ProcessUsage u;
  std::ifstream statm("/proc/self/statm");
  uint64_t size_pages = 0, resident_pages = 0;
  statm >> size_pages >> resident_pages;
  u.rss_bytes = resident_pages * uint64_t(::sysconf(_SC_PAGESIZE));
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++u.open_fds;
  u.device = vk::CurrentLiveAllocations();
  return u;
}

inline std::ostream& operator<<(std::ostream& os, const ProcessUsage& u) {
  return os << "rss " << (u.rss_bytes >> 10) << " KiB, " << u.open_fds << " fds, device memory "
            << u.device.memory_objects << " allocations / " << u.device.memory_bytes << " bytes, "
            << u.device.texel_views << " texel views";
}

}  // namespace vkg::test
