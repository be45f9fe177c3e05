// `vkgemma bench --audio-seconds S` (layer: tools): one clip through the device's audio tower.
#include "tools/cli/bench_audio.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "host/device/gpu_context.h"
#include "host/device/weight_source.h"
#include "host/model/shapes.h"
#include "host/runtime/audio_tower_gpu.h"

namespace vkg::cli {

int RunAudioBench(double seconds, uint32_t reps, const EngineOptions& options, bool json) {
  ModelConfig config = ShapeConfig("e2b");  // the text side only sets embed_audio's width (1536)
  config.mm.has_audio = true;               // AudioConfig's defaults are the released tower's
  config.mm.audio_token_id = 258881;
  const AudioConfig& a = config.mm.audio;
  AudioFeatures clip;
  clip.frames = clip.valid_frames = std::max(1, int(std::lround(seconds * 100.0)));  // 10 ms hop
  clip.soft_tokens = AudioConfig::SoftTokens(clip.valid_frames);
  clip.mel.resize(size_t(clip.frames) * AudioFeatures::kMelBins);
  for (size_t i = 0; i < clip.mel.size(); ++i) clip.mel[i] = float((i * 2654435761u) % 1000) / 100.f - 7.f;

  GpuContext gpu(GpuOptions{options.device, options.validation});
  const auto source = SyntheticWeights(config, 1);
  const DType format = options.weights.value_or(DType::BF16);
  GpuAudioTower tower(*source, gpu, format);
  tower.Encode(clip, options.kernels, options.features);  // warm-up: pipelines, allocator
  std::vector<double> ms;
  for (uint32_t r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    tower.Encode(clip, options.kernels, options.features);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  const double audio_s = clip.frames / 100.0;
  const std::string device = gpu.device().caps().name;
  if (json) {
    std::printf(
        "{\"bench\":\"audio\",\"device\":\"%s\",\"weights\":\"%s\",\"seconds\":%.2f,\"frames\":%d,\"soft_tokens\":%d,"
        "\"encode_ms\":%.2f,\"encode_ms_min\":%.2f,\"encode_ms_max\":%.2f,\"ms_per_audio_s\":%.2f,\"reps\":%u}\n",
        device.c_str(), std::string(DTypeName(format)).c_str(), audio_s, clip.frames, clip.soft_tokens, median,
        ms.front(), ms.back(), median / audio_s, reps);
  } else {
    std::printf("device       %s\n", device.c_str());
    std::printf(
        "tower        hidden %d, %d conformer layers, %d heads of %d, subsampling [%d, %d], output %d, "
        "clipped linears; weights %s (synthetic)\n",
        a.hidden_size, a.num_hidden_layers, a.num_attention_heads, a.head_dim(), a.subsampling_channels0,
        a.subsampling_channels1, a.output_proj_dims, std::string(DTypeName(format)).c_str());
    std::printf("audio        %.2f s = %d mel frames -> %d soft tokens\n", audio_s, clip.frames, clip.soft_tokens);
    std::printf("encode       %.1f ms median (min %.1f, max %.1f over %u), %.1f ms per second of audio\n", median,
                ms.front(), ms.back(), reps, median / audio_s);
  }
  return 0;
}

}  // namespace vkg::cli
