// Long sweeps (ctest label "long"): a sweep whose every case takes long on lavapipe runs a fixed
// sample of its cases by default, as CI does, and all of them with VKG_SWEEP=full
// (`VKG_SWEEP=full ctest -L long`, README "How correctness is proven"). A case outside the sample
// is reported as skipped, naming how to run it; the cases that run assert exactly what they did.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace vkg::test {

inline bool FullSweep() {
  const char* s = std::getenv("VKG_SWEEP");
  return s && std::string(s) == "full";
}

}  // namespace vkg::test

// In a TEST_P of a long sweep: skips the case unless `in_sample` or VKG_SWEEP=full.
#define VKG_SWEEP_SAMPLE(in_sample)                                                          \
  do {                                                                                       \
    if (!(in_sample) && !::vkg::test::FullSweep())                                           \
      GTEST_SKIP() << "not in this sweep's CI sample: VKG_SWEEP=full ctest -L long runs it"; \
  } while (0)
