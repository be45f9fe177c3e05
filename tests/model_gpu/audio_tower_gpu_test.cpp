// The audio tower on the Vulkan device (tests/data/gemma4-mm/ple-audio): its soft tokens equal to
// the CPU reference tower's in both kernel families, and the whole prompt (BOA, the clip's soft
// tokens, EOA, text) within 1e-3 of Hugging Face's logits at every position through
// Engine::AttachAudio, on the device and on the CPU reference engine.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "host/device/weight_source.h"
#include "host/model/checkpoint.h"
#include "host/reference/audio_tower.h"
#include "host/runtime/audio_tower_gpu.h"
#include "host/runtime/engine.h"
#include "tests/audio_fixture.h"
#include "tests/model/test_helpers.h"
#include "tests/run_vkgemma.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

std::string FamilyName(KernelFamily f) { return f == KernelFamily::kGpu ? "gpu_family" : "device_family"; }

class AudioTowerGpuTest : public GpuTest, public ::testing::WithParamInterface<KernelFamily> {};

// Every op of the tower (the new shaders: subsampling conv + LayerNorm, local attention, GLU +
// depthwise conv, bias / SiLU) in one encode: equal to ref::AudioTower within 1e-4.
TEST_P(AudioTowerGpuTest, SoftTokensMatchTheReference) {
  const AudioFixture f = LoadAudioFixture("ple-audio");
  const Checkpoint ckpt = Checkpoint::Load(f.dir);
  const auto source = CheckpointWeights(ckpt);
  GpuAudioTower tower(*source, gpu(), DType::F32);
  const ref::AudioTower cpu(ckpt.config(), ref::AudioWeights::Load(ckpt));
  // The fixture's clip, and a short one (under one attention chunk, odd frame count).
  AudioFeatures shorter = f.clip;
  shorter.frames = shorter.valid_frames = 37;
  shorter.mel.resize(size_t(37) * AudioFeatures::kMelBins);
  shorter.soft_tokens = AudioConfig::SoftTokens(37);
  for (const AudioFeatures& clip : {f.clip, shorter}) {
    const std::vector<float> soft = tower.Encode(clip, GetParam());
    const std::vector<float> ref_soft = cpu.Encode(clip);
    ASSERT_EQ(soft.size(), ref_soft.size());
    float worst = 0.f, scale = 0.f;
    for (size_t i = 0; i < soft.size(); ++i) {
      worst = std::max(worst, std::fabs(soft[i] - ref_soft[i]));
      scale = std::max(scale, std::fabs(ref_soft[i]));
    }
    std::printf("[ measured ] %d frames: soft tokens max abs vs the CPU reference %.3g (largest %.3g)\n",
                clip.valid_frames, worst, scale);
    EXPECT_LE(worst, 1e-4f);
    EXPECT_GT(scale, 0.1f);  // not trivially small
  }
}

INSTANTIATE_TEST_SUITE_P(Families, AudioTowerGpuTest, ::testing::Values(KernelFamily::kDevice, KernelFamily::kGpu),
                         [](const auto& info) { return FamilyName(info.param); });

struct EngineCase {
  const char* device;  // "" (the Vulkan device) or "cpu"
  KernelFamily family;
  const char* clip;  // LoadAudioFixture's clip subfolder
};

class AudioEngineTest : public ::testing::TestWithParam<EngineCase> {};

TEST_P(AudioEngineTest, LogitsMatchHuggingFace) {
  const AudioFixture f = LoadAudioFixture("ple-audio", GetParam().clip);
  EngineOptions o;
  o.device = GetParam().device;
  o.kv_dtype = DType::F32;
  o.validation = true;
  o.kernels = GetParam().family;
  auto engine = Engine::Open(f.dir.string(), o);
  engine->AttachAudio({f.clip});
  const std::vector<float> logits = engine->Forward(f.tokens, true);
  ASSERT_EQ(logits.size(), f.logits.size());
  const size_t V = size_t(f.vocab);
  float worst = 0.f;
  for (size_t t = 0; t < f.tokens.size(); ++t) {
    float row = 0.f;
    for (size_t i = 0; i < V; ++i) row = std::max(row, std::fabs(logits[t * V + i] - f.logits[t * V + i]));
    EXPECT_LE(row, 1e-3f) << "position " << t << " (token " << f.tokens[t] << ")";
    worst = std::max(worst, row);
  }
  std::printf("[ measured ] ple-audio %s on %s: logits max abs vs HF %.3g\n", GetParam().clip,
              engine->device_name().c_str(), worst);
  EXPECT_EQ(engine->validation_messages(), 0);
  EXPECT_EQ(engine->n_past(), f.tokens.size());
}

INSTANTIATE_TEST_SUITE_P(Engines, AudioEngineTest,
                         ::testing::Values(EngineCase{"", KernelFamily::kDevice, ""},
                                           EngineCase{"", KernelFamily::kGpu, "clip-4s"},
                                           EngineCase{"", KernelFamily::kDevice, "clip-0.3s"},
                                           EngineCase{"cpu", KernelFamily::kDevice, ""}),
                         [](const auto& info) {
                           std::string clip = *info.param.clip ? info.param.clip : "clip-1.3s";
                           for (char& ch : clip) ch = (ch == '-' || ch == '.') ? '_' : ch;
                           return std::string(*info.param.device ? info.param.device : "vulkan") + "_" +
                                  FamilyName(info.param.family) + "_" + clip;
                         });

// One-line errors on the device engine, and the clips are consumed by the refused call.
TEST(AudioEngineErrorsTest, RefusesWhatItCannotEvaluate) {
  const AudioFixture f = LoadAudioFixture("ple-audio");
  auto expect_error = [](const std::function<void()>& body, const std::string& message) {
    try {
      body();
      ADD_FAILURE() << "no error, expected: " << message;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), message);
    }
  };
  auto text_only = Engine::Open(FixtureDir("ple").string(), EngineOptions{});
  text_only->AttachAudio({f.clip});
  expect_error([&] { text_only->Forward(f.tokens, false); },
               "this model has no audio tower (its config.json has no audio_config): it cannot take audio");
  auto engine = Engine::Open(f.dir.string(), EngineOptions{});
  std::vector<int32_t> shorter(f.tokens);
  shorter.erase(shorter.begin() + 10);  // one audio token fewer
  engine->AttachAudio({f.clip});
  expect_error([&] { engine->Forward(shorter, false); },
               "audio clip 1 makes 33 soft tokens but its run in the prompt has 32 audio tokens");
  EXPECT_EQ(engine->n_past(), 0u);
  // Nothing was evaluated by the refused call: the prompt with its clip runs.
  engine->AttachAudio({f.clip});
  EXPECT_EQ(engine->Forward(f.tokens, true).size(), f.logits.size());
}

// End to end from the audio file: `vkgemma logits --audio audio.wav` (decoding, resampling and HF's
// log-mel features by host/audio, the tower, the merge) on the device and on the CPU reference,
// HF's logits within 1e-3 at every position (issue 22's gate).
TEST(AudioLogitsCommandTest, AudioFileMatchesHuggingFace) {
  const AudioFixture f = LoadAudioFixture("ple-audio");
  TempDir dir("audio_logits");
  std::string tokens;
  for (int32_t t : f.tokens) tokens += (tokens.empty() ? "" : ",") + std::to_string(t);
  for (const char* device : {"", " --device cpu"}) {
    const std::filesystem::path out = dir.path() / "logits.f32";
    const CommandOutput r = RunVkgemma("logits -m " + f.dir.string() + " --tokens " + tokens + " --audio " +
                                       (f.dir / "audio.wav").string() + " --out " + out.string() + device);
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_EQ(r.err.find("validation"), std::string::npos) << r.err;
    const std::vector<float> got = ReadF32(out);
    ASSERT_EQ(got.size(), f.logits.size()) << device;
    float worst = 0.f;
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - f.logits[i]));
    std::printf("[ measured ] vkgemma logits --audio%s: max abs vs HF %.3g\n", device, worst);
    EXPECT_LE(worst, 1e-3f) << device;
  }
}

}  // namespace
}  // namespace vkg::test
