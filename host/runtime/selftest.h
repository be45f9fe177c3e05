// `vkgemma selftest`: every kernel variant the engine would run on a device, at a model's real
// shapes, against the CPU reference (layer: host/runtime). No Vulkan header: the CLI and bench use it.
//
// The cases are the distinct operations of the chosen built-in shapes' forward passes (decode and
// prefill products of every distinct weight matrix, the fused decode products, decode attention as
// the replayed step records it, prefill attention, the row norms), each recorded by the same host
// op the forward pass calls with the same kernel family and features, so the device picks the same
// shader variant (integer-dot, matrix-unit, GPU or CPU family) it picks in the engine. Inputs are
// seeded random values; the tolerances are the op tests' (tests/ops/*_test.cpp), stated per case.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "host/formats/dtype.h"
#include "host/model/config.h"
#include "host/ops/kernel_family.h"

namespace vkg {

struct SelftestOptions {
  std::string device;  // as EngineOptions::device ("" = VKGEMMA_DEVICE or the first device)
  bool validation = false;
  KernelFamily kernels = KernelFamily::kDevice;
  KernelFeatures features;
  std::vector<std::string> shapes;  // built-in shape names (host/model/shapes.h); empty = all of them
  // Models given by config instead (bench: a checkpoint's, or the shape it times); used when not empty.
  std::vector<std::pair<std::string, ModelConfig>> models;
  std::vector<DType> formats;     // weight formats; empty = q4_0, q8_0 and bf16 (quick: q4_0)
  std::vector<DType> kv_formats;  // KV cache formats of the attention cases; empty = f16, q8_0 and q4_0
  std::string ops;                // only the cases whose op contains this (case-insensitive); "" = all
  // Smaller samples (rows of huge matrices, prefill tokens, context) for CI on lavapipe; the same
  // kernels and the same shapes' K, heads and windows.
  bool quick = false;
  uint32_t seed = 1;
  // Test hook (tests/cli/selftest_test.cmake, env VKGEMMA_SELFTEST_PERTURB): corrupts one output
  // value of every case whose kernels contain this name, as a wrong kernel would; never set otherwise.
  std::string perturb;
};

struct SelftestCase {
  std::string op;         // "decode product", "prefill attention", ...
  std::string kernels;    // shader variants the case dispatched, '+'-joined (from the recorder)
  std::string shape;      // e.g. "q4_0 N=2048 K=1536 M=1"; "(N run)" where rows were sampled
  std::string models;     // built-in shapes that have this operation, ','-joined
  std::string reference;  // what the CPU side computed (e.g. "f32 product, f16-rounded inputs")
  double error = 0;       // NMSE: sum((got - ref)^2) / sum(ref^2) over the checked outputs
  double max_abs = 0;     // largest |got - ref|
  double tolerance = 0;   // the NMSE bound (the op tests')
  uint64_t checked = 0;   // outputs compared
  double seconds = 0;     // wall time of the case: upload, device run, reference
  bool pass = false;
};

struct SelftestReport {
  std::string device, device_type, driver;
  uint32_t driver_version = 0;
  std::string kernels;  // "gpu" or "cpu": the family that ran
  std::vector<SelftestCase> cases;
  double seconds = 0;
  bool passed() const;
  std::vector<std::string> failed() const;  // "op [kernels] shape" of each failing case
};

// Runs every case on a device of its own; on_case (may be empty) sees each result as it finishes.
SelftestReport RunSelftest(const SelftestOptions& options,
                           const std::function<void(const SelftestCase&)>& on_case = nullptr);

class GpuContext;
// The same on an open device (Engine::Selftest: an engine's pipelines are then compiled once for
// both); options.device and options.validation are the context's.
SelftestReport RunSelftestOn(GpuContext& gpu, const SelftestOptions& options,
                             const std::function<void(const SelftestCase&)>& on_case = nullptr);

}  // namespace vkg
