// gemma4_unified's media input (tests/data/gemma4-mm/unified-media, made by Hugging Face's own
// Gemma4UnifiedForConditionalGeneration): no vision tower, no conformer. The preprocessed inputs
// (3x3-merged 48 px patches, raw 640-sample frames) and the soft tokens of the CPU reference and of
// the Vulkan embedder equal HF's; a prompt holding the image and the clip gives HF's logits within
// 1e-3 at every position through the engines and through `vkgemma logits --image --audio`.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "host/audio/audio_input.h"
#include "host/device/weight_source.h"
#include "host/image/image_input.h"
#include "host/model/checkpoint.h"
#include "host/model/config.h"
#include "host/reference/unified_media.h"
#include "host/runtime/audio_tower_gpu.h"
#include "host/runtime/engine.h"
#include "host/runtime/vision_tower_gpu.h"
#include "tests/mm_fixture.h"
#include "tests/model/test_helpers.h"
#include "tests/run_vkgemma.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

struct UnifiedFixture {
  std::filesystem::path dir, image_file, audio_file;
  nlohmann::json expected;
  std::vector<int32_t> tokens;
  ImagePatches image;            // our preprocessing of image_file (budget from the fixture)
  AudioFeatures clip;            // our raw frames of audio_file
  std::vector<float> hf_frames;  // HF's Gemma4UnifiedAudioFeatureExtractor rows [frames][640]
  std::vector<float> image_soft, audio_soft, logits;
  int vocab = 0;
};

const UnifiedFixture& Fixture() {
  static const UnifiedFixture f = [] {
    UnifiedFixture u;
    u.dir = MmFixtureDir("unified-media");
    u.expected = nlohmann::json::parse(ReadBytes(u.dir / "expected.json"));
    for (const auto& t : u.expected.at("tokens")) u.tokens.push_back(t.get<int32_t>());
    u.vocab = u.expected.at("vocab").get<int>();
    // The image is ple-vision's (HF's 16 px patches of it are checked there, image_preprocess_test).
    u.image_file = MmFixtureDir("ple-vision") / u.expected.at("image").at("file").get<std::string>();
    const image::PreprocessedImage p =
        image::LoadAndPreprocess(u.image_file, u.expected.at("image").at("budget").get<uint32_t>());
    u.image = ImagePatches::Grid(int(p.patches_x), int(p.patches_y), p.pixels);
    u.audio_file = u.dir / "audio.wav";
    u.clip = LoadAudioFile(u.audio_file.string(), 640);
    u.hf_frames = ReadF32(u.dir / "audio_frames.f32");
    u.image_soft = ReadF32(u.dir / "image_soft_tokens.f32");
    u.audio_soft = ReadF32(u.dir / "audio_soft_tokens.f32");
    u.logits = ReadF32(u.dir / "logits.f32");
    return u;
  }();
  return f;
}

float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float worst = 0.f;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

// The preprocessed inputs: HF's merged 48 px patches (a sample of rows, as bytes) within one 8-bit
// step and their (x, y) exactly; HF's raw frames within 1e-4; the soft-token counts.
TEST(UnifiedMediaInputs, MatchHuggingFace) {
  const UnifiedFixture& f = Fixture();
  const Checkpoint ckpt = Checkpoint::Load(f.dir);
  const ModelConfig& c = ckpt.config();
  ASSERT_TRUE(c.mm.vision_unified && c.mm.audio_unified);
  const MergedPatches m = MergePatches(f.image, c.mm.vision);
  const auto& im = f.expected.at("image");
  ASSERT_EQ(m.count, im.at("soft_tokens").get<int>());
  const int P = c.mm.unified_vision.patch_values();
  ASSERT_EQ(P, im.at("pixel_values_shape")[1].get<int>());
  for (int s = 0; s < m.count; ++s) {
    EXPECT_EQ(m.positions[size_t(s) * 2], im.at("positions")[size_t(s)][0].get<int>()) << "soft token " << s;
    EXPECT_EQ(m.positions[size_t(s) * 2 + 1], im.at("positions")[size_t(s)][1].get<int>()) << "soft token " << s;
  }
  const std::vector<char> rows = ReadBytes(f.dir / "pixel_rows.u8");
  const auto& which = im.at("pixel_rows");
  ASSERT_EQ(rows.size(), which.size() * size_t(P));
  float worst = 0.f;
  for (size_t r = 0; r < which.size(); ++r) {
    const size_t s = which[r].get<size_t>();
    for (int i = 0; i < P; ++i) {
      const float hf = float(double(uint8_t(rows[r * size_t(P) + size_t(i)])) / 255.0);
      worst = std::max(worst, std::fabs(m.pixels[s * size_t(P) + size_t(i)] - hf));
    }
  }
  std::printf("[ measured ] merged 48 px patches vs HF: max abs %.3g (one 8-bit step %.3g)\n", worst, 1.0 / 255);
  EXPECT_LE(worst, 1.0f / 255.0f + 1e-6f);
  // Audio: 640-sample rows of the 16 kHz waveform, the last zero-padded; one soft token each.
  EXPECT_EQ(f.clip.width, 640);
  EXPECT_EQ(f.clip.frames, f.expected.at("audio").at("frames_shape")[0].get<int>());
  EXPECT_EQ(f.clip.soft_tokens, f.expected.at("audio").at("soft_tokens").get<int>());
  const float frames = MaxAbsDiff(f.clip.mel, f.hf_frames);
  std::printf("[ measured ] raw audio frames vs HF: max abs %.3g\n", frames);
  EXPECT_LE(frames, 1e-4f);
}

// Soft tokens (what replaces the placeholder rows): the CPU reference and the device embedder in
// both kernel families, each within 1e-4 of HF's.
class UnifiedSoftTokensTest : public GpuTest {};

TEST_F(UnifiedSoftTokensTest, ReferenceAndDeviceMatchHuggingFace) {
  const UnifiedFixture& f = Fixture();
  const Checkpoint ckpt = Checkpoint::Load(f.dir);
  const ModelConfig& c = ckpt.config();
  const std::vector<float> ref_image = ref::UnifiedImageSoftTokens(c, ref::UnifiedVisionWeights::Load(ckpt), f.image);
  AudioFeatures hf_clip = f.clip;
  hf_clip.mel = f.hf_frames;
  const std::vector<float> ref_audio = ref::UnifiedAudioSoftTokens(c, ref::LoadUnifiedAudioProjection(ckpt), hf_clip);
  float d = MaxAbsDiff(ref_image, f.image_soft);
  std::printf("[ measured ] CPU reference image soft tokens vs HF: max abs %.3g\n", d);
  EXPECT_LE(d, 1e-4f);
  d = MaxAbsDiff(ref_audio, f.audio_soft);
  std::printf("[ measured ] CPU reference audio soft tokens vs HF: max abs %.3g\n", d);
  EXPECT_LE(d, 1e-4f);
  const auto source = CheckpointWeights(ckpt);
  GpuVisionTower vision(*source, gpu(), DType::F32);
  GpuAudioTower audio(*source, gpu(), DType::F32);
  for (KernelFamily family : {KernelFamily::kDevice, KernelFamily::kGpu}) {
    const char* name = family == KernelFamily::kGpu ? "gpu" : "device";
    d = MaxAbsDiff(vision.Encode(f.image, family), f.image_soft);
    std::printf("[ measured ] Vulkan (%s family) image soft tokens vs HF: max abs %.3g\n", name, d);
    EXPECT_LE(d, 1e-4f) << name;
    d = MaxAbsDiff(audio.Encode(hf_clip, family), f.audio_soft);
    std::printf("[ measured ] Vulkan (%s family) audio soft tokens vs HF: max abs %.3g\n", name, d);
    EXPECT_LE(d, 1e-4f) << name;
  }
  EXPECT_GT(vision.device_bytes(), 0u);
}

struct EngineCase {
  const char* device;  // "" (the Vulkan device) or "cpu"
  KernelFamily family;
};

class UnifiedEngineTest : public ::testing::TestWithParam<EngineCase> {};

// The prompt (text, BOI, 63 image tokens, EOI, text, BOA, 25 audio tokens, EOA, text) through
// Engine::AttachImages + AttachAudio: HF's logits within 1e-3 at every position. The image's tokens
// see each other on sliding layers (use_bidirectional_attention "vision", the unified default).
TEST_P(UnifiedEngineTest, LogitsMatchHuggingFace) {
  const UnifiedFixture& f = Fixture();
  EngineOptions o;
  o.device = GetParam().device;
  o.kv_dtype = DType::F32;
  o.validation = true;
  o.kernels = GetParam().family;
  auto engine = Engine::Open(f.dir.string(), o);
  ASSERT_TRUE(engine->config().mm.bidirectional_vision);
  engine->AttachImages({f.image});
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
  std::printf("[ measured ] unified-media on %s: logits max abs vs HF %.3g\n", engine->device_name().c_str(), worst);
  EXPECT_EQ(engine->validation_messages(), 0);
}

INSTANTIATE_TEST_SUITE_P(Engines, UnifiedEngineTest,
                         ::testing::Values(EngineCase{"", KernelFamily::kDevice}, EngineCase{"", KernelFamily::kGpu},
                                           EngineCase{"cpu", KernelFamily::kDevice}),
                         [](const auto& info) {
                           return std::string(*info.param.device ? "cpu" : "vulkan") +
                                  (info.param.family == KernelFamily::kGpu ? "_gpu_family" : "_device_family");
                         });

// One-line errors: a log-mel clip given to the unified model, a raw-frame clip to a conformer model.
TEST(UnifiedEngineErrorsTest, RefusesTheOtherAudioKind) {
  const UnifiedFixture& f = Fixture();
  auto expect_error = [](const std::function<void()>& body, const std::string& message) {
    try {
      body();
      ADD_FAILURE() << "no error, expected: " << message;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), message);
    }
  };
  auto engine = Engine::Open(f.dir.string(), EngineOptions{"cpu"});
  const AudioFeatures mel = LoadAudioFile(f.audio_file.string());
  expect_error([&] { engine->EncodeAudio(mel); },
               "audio clip has 128 values per frame, but this model takes raw frames of 640 samples");
  auto conformer = Engine::Open(MmFixtureDir("ple-audio").string(), EngineOptions{"cpu"});
  expect_error([&] { conformer->EncodeAudio(f.clip); },
               "audio clip has 640 values per frame, but this model takes 128-bin log-mel frames");
  // The config: the fixture's parsed as unified; an embedder whose projection width differs from
  // mm_embed_dim, refused with the field named.
  nlohmann::json doc = nlohmann::json::parse(ReadBytes(f.dir / "config.json"));
  const ModelConfig c = ParseConfig(doc);
  EXPECT_TRUE(c.mm.has_vision && c.mm.vision_unified && c.mm.has_audio && c.mm.audio_unified);
  EXPECT_EQ(c.mm.unified_vision.mm_embed_dim, 8);
  EXPECT_EQ(c.mm.unified_vision.mm_posemb_size, 24);
  EXPECT_EQ(c.mm.vision.position_embedding_size, 72);  // a 16 px patch's (x, y) bound: 3 x 24
  EXPECT_EQ(c.mm.unified_audio.audio_embed_dim, 640);
  doc["vision_config"]["output_proj_dims"] = 16;
  expect_error([&] { ParseConfig(doc); },
               "config.json: vision_config.output_proj_dims 16 differs from mm_embed_dim 8 (the embedder projects the "
               "mm_embed_dim-wide patches)");
}

// End to end from the files: `vkgemma logits --image image.png --audio audio.wav` on the device and
// on the CPU reference (decoding, HF's preprocessing, the embedders, the merge), HF's logits within
// 1e-3; `info` names the unified media parameters.
TEST(UnifiedLogitsCommandTest, FilesMatchHuggingFace) {
  const UnifiedFixture& f = Fixture();
  TempDir dir("unified_logits");
  std::string tokens;
  for (int32_t t : f.tokens) tokens += (tokens.empty() ? "" : ",") + std::to_string(t);
  for (const char* device : {"", " --device cpu"}) {
    const std::filesystem::path out = dir.path() / "logits.f32";
    const CommandOutput r =
        RunVkgemma("logits -m " + f.dir.string() + " --tokens " + tokens + " --image " + f.image_file.string() +
                   " --audio " + f.audio_file.string() + " --out " + out.string() + device);
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_EQ(r.err.find("validation"), std::string::npos) << r.err;
    const float worst = MaxAbsDiff(ReadF32(out), f.logits);
    std::printf("[ measured ] vkgemma logits --image --audio%s: max abs vs HF %.3g\n", device, worst);
    EXPECT_LE(worst, 1e-3f) << device;
  }
  const CommandOutput info = RunVkgemma("info -m " + f.dir.string() + " --device cpu");
  ASSERT_EQ(info.rc, 0) << info.err;
  EXPECT_NE(info.out.find("vision       gemma4_unified raw patches (no tower): 48x48 pixel patches (6912 values)"),
            std::string::npos)
      << info.out;
  EXPECT_NE(info.out.find("audio        gemma4_unified raw frames (no tower): 640 samples (40 ms) per soft token"),
            std::string::npos)
      << info.out;
}

}  // namespace
}  // namespace vkg::test
