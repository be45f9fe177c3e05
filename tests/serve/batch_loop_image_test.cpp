// Images in the continuous batching loop: with greedy sampling, image requests submitted together
// with text requests (sharing slots and steps, prompts read in chunks that cut a causal image's run
// or end before a bidirectional one) each give exactly the tokens of the same prompt generated
// alone by one Engine; and a slot's cached image is reused only for the same pixels (a second
// turn with the same image runs the vision tower no more; another image of the same size, whose
// token ids are identical, is encoded and answered as itself). Tiny checkpoints with vision
// towers (tests/data/gemma4-mm): ple-vision (causal image tokens, 63 soft tokens) and
// dense-vision-bidir (bidirectional on sliding layers, 60 soft tokens). Audio clips take the same
// path (ple-audio: a 1.3 s clip, 33 soft tokens, always causal): clip and text requests batched
// equal each alone, on the CPU reference and the GPU batch engine.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/audio/audio_input.h"
#include "host/batch/batch_engine.h"
#include "host/image/image_input.h"
#include "host/runtime/generate.h"
#include "host/serve/batch_loop.h"
#include "tests/serve/serve_test_util.h"

namespace vkg::serve {
namespace {

using namespace std::chrono_literals;

std::string MmDir(const std::string& name) { return std::string(VKG_TEST_DATA_DIR) + "/gemma4-mm/" + name; }

// The fixture's prompt as HF's processor built it: <bos>, text, BOI, the image tokens, EOI, text.
std::vector<int32_t> FixturePrompt(const std::string& name) {
  std::ifstream f(MmDir(name) + "/expected.json");
  return nlohmann::json::parse(f)["tokens"].get<std::vector<int32_t>>();
}

struct TestImage {
  SequenceImage image;  // start set by the caller
  ImagePatches patches;
};

// The fixture's image at its budget (70), or the same image with its colours inverted: the same
// size, so the same soft-token count and the same prompt ids, different pixels.
TestImage LoadImage(const std::string& name, bool inverted) {
  image::RgbImage rgb = image::LoadImageFile(MmDir(name) + "/image.png");
  if (inverted) {
    for (uint8_t& v : rgb.rgb) v = uint8_t(255 - v);
  }
  const image::PreprocessedImage im = image::Preprocess(rgb, 70);
  TestImage out;
  out.patches = ImagePatches::Grid(int(im.patches_x), int(im.patches_y), im.pixels);
  out.image.length = im.soft_tokens;
  out.image.hash = HashImagePixels(im.patches_x, im.patches_y, im.pixels);
  out.image.patches = std::make_shared<const ImagePatches>(out.patches);
  return out;
}

struct TestClip {
  SequenceAudio audio;  // start set by the caller
  AudioFeatures clip;
};

// The ple-audio fixture's clip, or the same samples reversed in time: the same length, so the
// same soft-token count and prompt ids, different features.
TestClip LoadClip(bool reversed) {
  audio::DecodedAudio d = audio::DecodeAudioFile(MmDir("ple-audio") + "/audio.wav");
  if (reversed) std::reverse(d.samples.begin(), d.samples.end());
  TestClip out;
  out.clip = audio::LogMelFeatures(audio::ResampleTo16k(d.samples, d.rate, "audio.wav"), "audio.wav");
  out.audio.length = uint32_t(out.clip.soft_tokens);
  out.audio.hash = HashAudioFeatures(out.clip);
  out.audio.clip = std::make_shared<const AudioFeatures>(out.clip);
  return out;
}

struct Case {
  std::vector<int32_t> prompt;
  const TestImage* image = nullptr;  // at the prompt's run of image tokens
  uint32_t max_tokens = 1;
  const TestClip* clip = nullptr;  // at the prompt's run of audio tokens (255 in ple-audio)
};

class BatchLoopImageTest : public ::testing::Test {
 protected:
  BatchLoopImageTest() : tokenizer_(tok::Tokenizer::Load(serve_test::TinyModelDir())) {}

  static EngineOptions Options(const std::string& device, uint32_t batch) {
    EngineOptions o;
    o.device = device;
    o.context = 160;
    o.batch = batch;
    return o;
  }

  static SequenceRequest Request(const Case& c) {
    SequenceRequest r;
    r.prompt = c.prompt;
    r.sampling.do_sample = false;
    r.sampling.temperature = 0;
    r.max_tokens = c.max_tokens;
    if (c.image) {
      SequenceImage im = c.image->image;
      im.start = uint32_t(std::find(c.prompt.begin(), c.prompt.end(), 252) - c.prompt.begin());
      r.images.push_back(im);
    }
    if (c.clip) {
      SequenceAudio a = c.clip->audio;
      a.start = uint32_t(std::find(c.prompt.begin(), c.prompt.end(), 255) - c.prompt.begin());
      r.audio.push_back(a);
    }
    return r;
  }

  // The reply's text (the byte-level test tokenizer: one byte per token id, so equal text is equal ids).
  static std::string ReadText(SequenceStream& s) {
    std::string text;
    for (;;) {
      SequenceUpdate u = s.Take(5000ms);
      text += u.text;
      if (u.done()) {
        EXPECT_NE(u.finish, FinishReason::kError) << u.error;
        return text;
      }
    }
  }

  // The same request generated alone on one Engine, as `vkgemma run --image --temp 0` does: the
  // reply's text.
  std::string Alone(Engine& engine, const Case& c) {
    engine.Reset();
    if (c.image) engine.AttachImages({c.image->patches});
    if (c.clip) engine.AttachAudio({c.clip->clip});
    GenerateOptions go;
    go.sampling.do_sample = false;
    go.sampling.temperature = 0;
    go.max_tokens = c.max_tokens;
    tok::StreamDecoder decoder(tokenizer_);
    std::string text;
    Generate(engine, c.prompt, go, [&](int32_t id) { text += decoder.Push(id); });
    return text + decoder.Finish();
  }

  // Image and text requests, all submitted at once to 2 slots: each equals its prompt alone.
  void ConcurrentImageAndTextRequestsEqualEachAlone(const std::string& fixture, const std::string& device,
                                                    uint32_t batch) {
    const std::vector<int32_t> with_image = FixturePrompt(fixture);
    const std::vector<int32_t> text = {2, 17, 33, 5, 40, 41, 7, 9, 11, 12, 13};
    std::vector<int32_t> longer = with_image;
    longer.insert(longer.end(), {60, 61, 62, 63});
    const TestImage a = LoadImage(fixture, false), b = LoadImage(fixture, true);
    const std::vector<Case> cases = {{with_image, &a, 5}, {text, nullptr, 6}, {with_image, &b, 4}, {longer, &a, 3}};
    std::unique_ptr<BatchEngine> engine = BatchEngine::Open(MmDir(fixture), Options(device, batch), 2);
    BatchLoopOptions lo;
    lo.prefill_chunk = batch;
    lo.prefill_tokens_per_step = batch;
    std::vector<std::string> replies;
    {
      BatchLoop loop(*engine, tokenizer_, lo);
      std::vector<std::shared_ptr<SequenceStream>> streams;
      for (const Case& c : cases) streams.push_back(loop.Submit(Request(c)));
      for (auto& s : streams) replies.push_back(ReadText(*s));
      loop.Stop();
      // Three images, but the last request may find the first's image (same pixels, same place) in
      // a free slot's cache, as arrival order decides: then it is not encoded again.
      EXPECT_GE(loop.stats().images_encoded, 2u);
      EXPECT_LE(loop.stats().images_encoded, 3u);
    }
    std::unique_ptr<Engine> alone = Engine::Open(MmDir(fixture), Options(device, batch));
    std::vector<std::string> want;
    for (const Case& c : cases) want.push_back(Alone(*alone, c));
    for (size_t i = 0; i < cases.size(); ++i) EXPECT_EQ(replies[i], want[i]) << "request " << i;
    EXPECT_NE(want[0], want[2]) << "the two images give different replies (else the test shows little)";
    EXPECT_EQ(engine->validation_messages() + alone->validation_messages(), 0);
  }

  // Audio and text requests, all submitted at once to 2 slots, prompts read in chunks of 16 that
  // cut the clip's run (positions 5 .. 37): each equals its prompt alone on one Engine (`vkgemma
  // run --audio`'s path).
  void AudioAndTextRequestsEqualEachAlone(const std::string& device) {
    const std::vector<int32_t> with_clip = FixturePrompt("ple-audio");
    const std::vector<int32_t> text = {2, 17, 33, 5, 40, 41, 7, 9, 11, 12, 13};
    std::vector<int32_t> longer = with_clip;
    longer.insert(longer.end(), {60, 61, 62, 63});
    const TestClip a = LoadClip(false), b = LoadClip(true);
    ASSERT_EQ(a.audio.length, 33u);
    ASSERT_NE(a.audio.hash, b.audio.hash);
    const std::vector<Case> cases = {
        {with_clip, nullptr, 5, &a}, {text, nullptr, 6}, {with_clip, nullptr, 4, &b}, {longer, nullptr, 3, &a}};
    std::unique_ptr<BatchEngine> engine = BatchEngine::Open(MmDir("ple-audio"), Options(device, 16), 2);
    BatchLoopOptions lo;
    lo.prefill_chunk = 16;
    lo.prefill_tokens_per_step = 16;
    std::vector<std::string> replies;
    {
      BatchLoop loop(*engine, tokenizer_, lo);
      std::vector<std::shared_ptr<SequenceStream>> streams;
      for (const Case& c : cases) streams.push_back(loop.Submit(Request(c)));
      for (auto& s : streams) replies.push_back(ReadText(*s));
      loop.Stop();
      // Three clips; the last request may find the first's clip (same samples, same place) in a free
      // slot's cache, as arrival order decides: then it is not encoded again.
      EXPECT_GE(loop.stats().audio_encoded, 2u);
      EXPECT_LE(loop.stats().audio_encoded, 3u);
      EXPECT_EQ(loop.stats().images_encoded, 0u);
    }
    std::unique_ptr<Engine> alone = Engine::Open(MmDir("ple-audio"), Options(device, 16));
    for (size_t i = 0; i < cases.size(); ++i) EXPECT_EQ(replies[i], Alone(*alone, cases[i])) << "request " << i;
    EXPECT_NE(replies[0], replies[2]) << "the two clips give different replies (else the test shows little)";
    EXPECT_EQ(engine->validation_messages() + alone->validation_messages(), 0);
  }

  tok::Tokenizer tokenizer_;
};

TEST_F(BatchLoopImageTest, CpuCausalImagesBatchWithText) {
  ConcurrentImageAndTextRequestsEqualEachAlone("ple-vision", "cpu", 16);  // chunks cut the image's run
}
TEST_F(BatchLoopImageTest, CpuBidirectionalImagesBatchWithText) {
  ConcurrentImageAndTextRequestsEqualEachAlone("dense-vision-bidir", "cpu", 64);
}
TEST_F(BatchLoopImageTest, GpuCausalImagesBatchWithText) {
  ConcurrentImageAndTextRequestsEqualEachAlone("ple-vision", "", 16);
}
TEST_F(BatchLoopImageTest, GpuBidirectionalImagesBatchWithText) {
  // Chunks of 64: the first ends before the image (positions 5 .. 64), as Engine's does.
  ConcurrentImageAndTextRequestsEqualEachAlone("dense-vision-bidir", "", 64);
}

TEST_F(BatchLoopImageTest, CpuAudioBatchesWithText) { AudioAndTextRequestsEqualEachAlone("cpu"); }
TEST_F(BatchLoopImageTest, GpuAudioBatchesWithText) { AudioAndTextRequestsEqualEachAlone(""); }

// A conversation on one slot: the second turn re-sends the first turn's image (its prompt extends
// the first's), and is answered from the cache without running the tower; the third has another
// image of the same size in the same place (identical token ids): encoded, and answered as alone.
TEST_F(BatchLoopImageTest, CpuRepeatedImageIsNotEncodedAgainButAnotherImageIs) {
  const std::string fixture = "ple-vision";
  const TestImage a = LoadImage(fixture, false), b = LoadImage(fixture, true);
  ASSERT_NE(a.image.hash, b.image.hash);
  const std::vector<int32_t> first = FixturePrompt(fixture);
  std::vector<int32_t> second = first;
  second.insert(second.end(), {60, 61, 62});
  const std::vector<Case> turns = {{first, &a, 1}, {second, &a, 4}, {second, &b, 4}};
  std::unique_ptr<BatchEngine> engine = BatchEngine::Open(MmDir(fixture), Options("cpu", 16), 1);
  BatchLoop loop(*engine, tokenizer_, BatchLoopOptions{.prefill_chunk = 16});
  std::vector<std::string> replies;
  std::vector<BatchLoopStats> stats;
  for (const Case& c : turns) {
    replies.push_back(ReadText(*loop.Submit(Request(c))));
    stats.push_back(loop.stats());
  }
  loop.Stop();
  EXPECT_EQ(stats[0].images_encoded, 1u);
  EXPECT_EQ(stats[1].images_encoded, 1u) << "the second turn's image is the first's: in the cache";
  EXPECT_EQ(stats[1].reused_tokens - stats[0].reused_tokens, first.size());
  EXPECT_EQ(stats[2].images_encoded, 2u) << "another image with the same token ids";
  std::unique_ptr<Engine> alone = Engine::Open(MmDir(fixture), Options("cpu", 16));
  for (size_t i = 0; i < turns.size(); ++i) EXPECT_EQ(replies[i], Alone(*alone, turns[i])) << "turn " << i;
  EXPECT_NE(replies[1], replies[2]);
}

}  // namespace
}  // namespace vkg::serve
