// An image and an audio clip in one prompt (tests/data/gemma4-mm/ple-vision-audio: an E2B-like text
// model with both towers; BOI, 63 image tokens, EOI, text, BOA, 25 audio tokens, EOA, text, as
// Hugging Face's processor builds it): HF's logits within 1e-3 at every position, through
// Engine::AttachImages + AttachAudio on the Vulkan device (the GPU kernel family), and end to end from
// the files through `vkgemma logits --image F --audio F` (the device family and the CPU reference).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "host/audio/audio_input.h"
#include "host/image/image_input.h"
#include "host/runtime/engine.h"
#include "tests/mm_fixture.h"
#include "tests/model/test_helpers.h"
#include "tests/run_vkgemma.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

struct Fixture {
  std::vector<int32_t> tokens;
  std::vector<float> logits;  // [tokens][vocab], HF
  size_t vocab = 0;
};

Fixture LoadFixture() {
  const std::filesystem::path dir = MmFixtureDir("ple-vision-audio");
  Fixture f;
  const auto expected = nlohmann::json::parse(ReadBytes(dir / "expected.json"));
  for (const auto& t : expected.at("tokens")) f.tokens.push_back(t.get<int32_t>());
  f.vocab = expected.at("vocab").get<size_t>();
  f.logits = ReadF32(dir / "logits.f32");
  return f;
}

float WorstRow(const Fixture& f, const std::vector<float>& logits, const std::string& what) {
  EXPECT_EQ(logits.size(), f.logits.size()) << what;
  if (logits.size() != f.logits.size()) return INFINITY;
  float worst = 0.f;
  for (size_t t = 0; t < f.tokens.size(); ++t) {
    float row = 0.f;
    for (size_t i = 0; i < f.vocab; ++i)
      row = std::max(row, std::fabs(logits[t * f.vocab + i] - f.logits[t * f.vocab + i]));
    EXPECT_LE(row, 1e-3f) << what << ": position " << t << " (token " << f.tokens[t] << ")";
    worst = std::max(worst, row);
  }
  return worst;
}

struct EngineCase {
  const char* device;  // "" (the Vulkan device) or "cpu"
  KernelFamily family;
};

class VisionAudioEngineTest : public ::testing::TestWithParam<EngineCase> {};

// The image and the clip decoded and preprocessed by host/image and host/audio (HF's processor's
// numbers: the vision and audio fixtures check those steps alone), then one prefill.
TEST_P(VisionAudioEngineTest, LogitsMatchHuggingFace) {
  const Fixture f = LoadFixture();
  TempDir dir("vision_audio_engine");
  const std::filesystem::path model = AssembleSplitMmFixture("ple-vision-audio", dir.path());
  const image::PreprocessedImage im = image::LoadAndPreprocess(model / "image.png", 70);
  EngineOptions o;
  o.device = GetParam().device;
  o.kv_dtype = DType::F32;
  o.validation = true;
  o.kernels = GetParam().family;
  auto engine = Engine::Open(model.string(), o);
  engine->AttachImages({ImagePatches::Grid(int(im.patches_x), int(im.patches_y), im.pixels)});
  engine->AttachAudio({LoadAudioFile((model / "audio.wav").string())});
  const float worst = WorstRow(f, engine->Forward(f.tokens, true), "engine");
  std::printf("[ measured ] ple-vision-audio on %s: logits max abs vs HF %.3g\n", engine->device_name().c_str(), worst);
  EXPECT_EQ(engine->validation_messages(), 0);
  EXPECT_EQ(engine->n_past(), f.tokens.size());
}

INSTANTIATE_TEST_SUITE_P(Engines, VisionAudioEngineTest,
                         // The device family and the CPU reference run through the command below.
                         ::testing::Values(EngineCase{"", KernelFamily::kGpu}), [](const auto& info) {
                           return std::string(*info.param.device ? info.param.device : "vulkan") +
                                  (info.param.family == KernelFamily::kGpu ? "_gpu_family" : "_device_family");
                         });

// `vkgemma logits --image image.png --audio audio.wav` on the device and on the CPU reference.
TEST(VisionAudioLogitsCommandTest, ImageAndAudioFilesMatchHuggingFace) {
  const Fixture f = LoadFixture();
  TempDir dir("vision_audio_logits");
  const std::filesystem::path model = AssembleSplitMmFixture("ple-vision-audio", dir.path() / "model");
  std::string tokens;
  for (int32_t t : f.tokens) tokens += (tokens.empty() ? "" : ",") + std::to_string(t);
  for (const char* device : {"", " --device cpu"}) {
    const std::filesystem::path out = dir.path() / "logits.f32";
    const CommandOutput r = RunVkgemma("logits -m " + model.string() + " --tokens " + tokens + " --image " +
                                       (model / "image.png").string() + " --audio " + (model / "audio.wav").string() +
                                       " --out " + out.string() + device);
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_EQ(r.err.find("validation"), std::string::npos) << r.err;
    const float worst = WorstRow(f, ReadF32(out), device);
    std::printf("[ measured ] vkgemma logits --image --audio%s: max abs vs HF %.3g\n", device, worst);
  }
}

}  // namespace
}  // namespace vkg::test
