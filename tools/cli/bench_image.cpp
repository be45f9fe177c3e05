// `vkgemma bench --image-tokens N` (layer: tools): one image through the device's vision tower.
#include "tools/cli/bench_image.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "host/device/gpu_context.h"
#include "host/device/weight_source.h"
#include "host/model/shapes.h"
#include "host/runtime/vision_tower_gpu.h"

namespace vkg::cli {

int RunImageBench(uint32_t soft_tokens, uint32_t reps, const EngineOptions& options, bool json) {
  ModelConfig config = ShapeConfig("e2b");  // the text side only sets the projection's width (1536)
  config.mm.has_vision = true;
  config.mm.image_token_id = 258880;
  config.mm.vision.use_clipped_linears = true;  // the E2B/E4B tower: every linear clamped
  const VisionConfig& v = config.mm.vision;
  // The most square grid of whole 3x3 blocks holding soft_tokens blocks.
  uint32_t bw = 1;
  for (uint32_t w = 1; w * w <= soft_tokens; ++w) {
    if (soft_tokens % w == 0) bw = w;
  }
  const uint32_t bh = soft_tokens / bw, k = uint32_t(v.pooling_kernel_size);
  const uint32_t gw = bh * k, gh = bw * k, patches = gw * gh;
  std::vector<float> pixels(size_t(patches) * uint32_t(v.patch_values()));
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = float((i * 2654435761u) % 256) / 255.f;
  const ImagePatches image = ImagePatches::Grid(int(gw), int(gh), std::move(pixels));

  GpuContext gpu(GpuOptions{options.device, options.validation});
  const auto source = SyntheticWeights(config, 1);
  const DType format = options.weights.value_or(DType::BF16);
  GpuVisionTower tower(*source, gpu, format);
  tower.Encode(image, options.kernels, options.features);  // warm-up: pipelines, allocator
  std::vector<double> ms;
  for (uint32_t r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    tower.Encode(image, options.kernels, options.features);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  const double rate = soft_tokens / (median / 1000.0);
  const std::string device = gpu.device().caps().name;
  if (json) {
    std::printf(
        "{\"bench\":\"image\",\"device\":\"%s\",\"weights\":\"%s\",\"soft_tokens\":%u,\"patches\":%u,"
        "\"encode_ms\":%.2f,\"encode_ms_min\":%.2f,\"encode_ms_max\":%.2f,\"soft_tokens_per_s\":%.1f,\"reps\":%u}\n",
        device.c_str(), std::string(DTypeName(format)).c_str(), soft_tokens, patches, median, ms.front(), ms.back(),
        rate, reps);
  } else {
    std::printf("device       %s\n", device.c_str());
    std::printf("tower        hidden %d, %d layers, %d heads of %d, MLP %d, clipped linears; weights %s (synthetic)\n",
                v.hidden_size, v.num_hidden_layers, v.num_attention_heads, v.head_dim, v.intermediate_size,
                std::string(DTypeName(format)).c_str());
    std::printf("image        %u soft tokens = %u x %u patches of 16 (%u patches)\n", soft_tokens, gw, gh, patches);
    std::printf("encode       %.1f ms median (min %.1f, max %.1f over %u), %.1f soft tokens/s\n", median, ms.front(),
                ms.back(), reps, rate);
  }
  return 0;
}

}  // namespace vkg::cli
