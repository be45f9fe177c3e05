// `vkgemma serve` with media over HTTP, in-process on the CPU reference with the tiny checkpoints
// of tests/data/gemma4-mm. Images (ple-vision): an image request is answered; the same image again
// is answered from the slot's cache without running the vision tower, and another image of the
// same size (identical token ids) is encoded. Audio (ple-audio, input_audio parts): the reply
// equals the same prompt generated alone by one Engine with the clip attached (`vkgemma run
// --audio`'s path), a repeated clip is not encoded again (vkgemma_audio_encoded_total in /metrics),
// and a model without an audio tower refuses clips. Hostile media (issue 20's rules): a huge base64
// image, bad base64, a decompression-bomb PNG, too many images per request; bad base64, a cut or
// garbage WAV, an unknown format, a huge clip, too many clips: each gets its 4xx with an OpenAI
// error object, and the server goes on answering.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "host/audio/audio_input.h"
#include "host/image/image_input.h"
#include "host/runtime/generate.h"
#include "host/serve/http_server.h"
#include "tests/image/base64.h"
#include "tests/image/image_fixture.h"
#include "tests/serve/http_test_util.h"

namespace vkg::serve {
namespace {

using json = nlohmann::json;
using http_test::ExpectError;

const std::string kModelDir = std::string(VKG_TEST_DATA_DIR) + "/gemma4-mm/ple-vision";
const std::string kAudioModelDir = std::string(VKG_TEST_DATA_DIR) + "/gemma4-mm/ple-audio";

// A server of a tiny multimodal checkpoint (1 CPU slot; the byte-level test tokenizer, whose 256
// ids are the checkpoint's vocabulary) on a free loopback port, bodies up to 64 MiB: ple-vision
// (images; no audio tower) or ple-audio (audio clips; prompt chunks of 16, so the clip's run is cut).
class VisionServer {
 public:
  explicit VisionServer(const std::string& dir = kModelDir)
      : tokenizer_(tok::Tokenizer::Load(serve_test::TinyModelDir())),
        template_(ChatTemplate::Load(serve_test::TinyModelDir())) {
    EngineOptions eo;
    eo.device = "cpu";
    eo.context = 256;
    engine_ = BatchEngine::Open(dir, eo, 1);
    model_.id = std::filesystem::path(dir).filename().string();
    model_.context = engine_->context();
    model_.tokenizer = &tokenizer_;
    model_.chat_template = &template_;
    model_.image_tokens = image::ReadImageTokenIds(dir);
    model_.image_budget = image::DefaultSoftTokenBudget(dir);  // 70
    model_.audio_tokens = audio::ReadAudioTokenIds(dir);
    loop_ = std::make_unique<BatchLoop>(*engine_, tokenizer_, BatchLoopOptions{.prefill_chunk = 16});
    ServerOptions so;
    so.port = 0;
    so.max_body_bytes = size_t(64) << 20;
    so.fingerprint = "vkgemma-test";
    server_ = std::make_unique<HttpServer>(
        model_, *loop_, [] { return 0; }, so);
    port_ = server_->Bind();
    thread_ = std::thread([this] { server_->Run(); });
  }
  ~VisionServer() {
    server_->Stop();
    thread_.join();
    loop_->Stop();
  }
  httplib::Result Chat(const std::string& body) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(120, 0);
    return c.Post("/v1/chat/completions", body, "application/json");
  }
  httplib::Result Metrics() const { return httplib::Client("127.0.0.1", port_).Get("/metrics"); }
  const BatchLoop& loop() const { return *loop_; }
  const ServedModel& model() const { return model_; }

 private:
  tok::Tokenizer tokenizer_;
  ChatTemplate template_;
  std::unique_ptr<BatchEngine> engine_;
  ServedModel model_;
  std::unique_ptr<BatchLoop> loop_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  int port_ = 0;
};

std::string PngUrl(const std::vector<uint8_t>& png) { return "data:image/png;base64," + image::test::Base64(png); }

// A 24-bit BMP file of an RGB image (bottom-up rows of BGR, each padded to 4 bytes).
std::vector<uint8_t> Bmp(const image::RgbImage& im) {
  const uint32_t row = (im.width * 3 + 3) / 4 * 4, size = 54 + row * im.height;
  std::vector<uint8_t> out(size, 0);
  auto put = [&out](size_t at, uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out[at + size_t(i)] = uint8_t(v >> (8 * i));
  };
  out[0] = 'B', out[1] = 'M';
  put(2, size, 4), put(10, 54, 4), put(14, 40, 4), put(18, im.width, 4), put(22, im.height, 4);
  put(26, 1, 2), put(28, 24, 2), put(34, row * im.height, 4);
  for (uint32_t y = 0; y < im.height; ++y) {
    for (uint32_t x = 0; x < im.width; ++x) {
      const uint8_t* p = &im.rgb[(size_t(im.height - 1 - y) * im.width + x) * 3];
      uint8_t* q = &out[54 + size_t(y) * row + x * 3];
      q[0] = p[2], q[1] = p[1], q[2] = p[0];
    }
  }
  return out;
}

std::string ImagePart(const std::string& url) {
  return json{{"type", "image_url"}, {"image_url", {{"url", url}}}}.dump();
}

std::string UserParts(const std::string& parts, int max_tokens = 4) {
  return R"({"temperature":0,"max_tokens":)" + std::to_string(max_tokens) +
         R"(,"messages":[{"role":"user","content":[)" + parts + R"(,{"type":"text","text":"What is it?"}]}]})";
}

std::string AudioPart(const std::string& data, const std::string& format = "wav") {
  return json{{"type", "input_audio"}, {"input_audio", {{"data", data}, {"format", format}}}}.dump();
}

std::string ReplyText(const httplib::Result& r) {
  if (!r || r->status != 200) return "<status " + std::to_string(r ? r->status : 0) + ">";
  return json::parse(r->body)["choices"][0]["message"]["content"].get<std::string>();
}

TEST(ServeMedia, ARepeatedImageIsAnsweredFromTheCacheAnotherIsEncoded) {
  VisionServer server;
  const std::vector<uint8_t> png = image::test::ReadBytes(kModelDir + "/image.png");
  const std::string first = UserParts(ImagePart(PngUrl(png)));
  const std::string a = ReplyText(server.Chat(first));
  EXPECT_EQ(server.loop().stats().images_encoded, 1u);
  EXPECT_EQ(ReplyText(server.Chat(first)), a);
  EXPECT_EQ(server.loop().stats().images_encoded, 1u) << "the same image in the same place: in the cache";
  EXPECT_GT(server.loop().stats().reused_tokens, 63u);
  // The same picture with its colours inverted (as a BMP): the same size, so the same prompt ids.
  image::RgbImage rgb = image::DecodeImage(png, "image.png");
  for (uint8_t& v : rgb.rgb) v = uint8_t(255 - v);
  const std::string url = "data:image/bmp;base64," + image::test::Base64(Bmp(rgb));
  const std::string b = ReplyText(server.Chat(UserParts(ImagePart(url))));
  EXPECT_EQ(b.rfind("<status", 0), std::string::npos) << b;
  EXPECT_EQ(server.loop().stats().images_encoded, 2u) << "another image with the same token ids is encoded";
}

TEST(ServeMedia, HostileImagesAre4xxAndTheServerGoesOn) {
  VisionServer server;
  // Huge base64 (28 MiB of text, 21 MiB decoded, over the 20 MiB image limit): refused from its
  // length, before anything is decoded or allocated for it.
  ExpectError(server.Chat(UserParts(ImagePart("data:image/png;base64," + std::string(28 << 20, 'A')))), 413,
              "image_too_large");
  ExpectError(server.Chat(UserParts(ImagePart("data:image/png;base64,iVBORw0K$$$$"))), 400, "invalid_image_url");
  // A decompression bomb: a small PNG file of 12000 x 12000 pixels, past the server's pixel limit.
  ExpectError(server.Chat(UserParts(
                  ImagePart(PngUrl(image::test::ReadBytes(image::test::DataDir() / "huge_12000x12000.png"))))),
              400, "invalid_image");
  std::string many;
  const std::string small = ImagePart(PngUrl(image::test::ReadBytes(image::test::DataDir() / "decode_pal4.png")));
  for (size_t i = 0; i <= kMaxImagesPerRequest; ++i) many += (i ? "," : "") + small;
  ExpectError(server.Chat(UserParts(many)), 400, "too_many_images");
  EXPECT_EQ(server.loop().stats().images_encoded, 0u);
  const httplib::Result ok = server.Chat(R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":2})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

// The reply to a chat request with a clip equals its prompt (the server's own parse) generated
// alone by one CPU Engine with the clip attached; the same request again finds the clip in the
// slot's cache (not encoded again), and /metrics counts one tower run.
TEST(ServeMedia, AudioRequestEqualsTheEngineAloneAndARepeatedClipIsNotEncodedAgain) {
  VisionServer server(kAudioModelDir);
  const std::string wav = image::test::Base64(image::test::ReadBytes(kAudioModelDir + "/audio.wav"));
  const std::string body = UserParts(AudioPart(wav), 6);
  const std::string reply = ReplyText(server.Chat(body));
  EXPECT_EQ(reply.rfind("<status", 0), std::string::npos) << reply;
  EXPECT_EQ(server.loop().stats().audio_encoded, 1u);
  EXPECT_EQ(ReplyText(server.Chat(body)), reply);
  EXPECT_EQ(server.loop().stats().audio_encoded, 1u) << "the same clip in the same place: in the cache";
  const httplib::Result metrics = server.Metrics();
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("\nvkgemma_audio_encoded_total 1\n"), std::string::npos) << metrics->body;

  const ParsedRequest parsed = ParseRequest(Endpoint::kChatCompletions, body, server.model());
  ASSERT_EQ(parsed.sequence.audio.size(), 1u);
  EXPECT_EQ(parsed.sequence.audio[0].length, 33u);  // 1.3 s: one soft token per 40 ms
  EngineOptions eo;
  eo.device = "cpu";
  eo.context = 256;
  std::unique_ptr<Engine> alone = Engine::Open(kAudioModelDir, eo);
  alone->AttachAudio({*parsed.sequence.audio[0].clip});
  GenerateOptions go;
  go.sampling = parsed.sequence.sampling;  // greedy (temperature 0), as the server samples it
  go.max_tokens = parsed.sequence.max_tokens;
  go.stop_ids = parsed.sequence.stop_ids;
  tok::StreamDecoder decoder(*server.model().tokenizer);
  std::string want;
  const std::vector<int32_t>& stops = parsed.sequence.stop_ids;
  Generate(*alone, parsed.sequence.prompt, go, [&](int32_t id) {
    if (std::find(stops.begin(), stops.end(), id) == stops.end()) want += decoder.Push(id);  // not in the reply
  });
  EXPECT_EQ(reply, want + decoder.Finish());
  EXPECT_EQ(alone->audio_encoded(), 1u);
}

TEST(ServeMedia, HostileAudioIs4xxAndTheServerGoesOn) {
  VisionServer server(kAudioModelDir);
  const std::vector<uint8_t> bytes = image::test::ReadBytes(kAudioModelDir + "/audio.wav");
  const std::string wav = image::test::Base64(bytes);
  // A cut WAV (its header promises more data than the file holds), a header alone, garbage bytes.
  const std::string cut = image::test::Base64(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 1000));
  ExpectError(server.Chat(UserParts(AudioPart(cut))), 400, "invalid_audio");
  const std::string header =
      image::test::Base64(std::vector<uint8_t>{'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E'});
  ExpectError(server.Chat(UserParts(AudioPart(header))), 400, "invalid_audio");
  std::vector<uint8_t> garbage(4096);
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = uint8_t(i * 2654435761u >> 13);
  ExpectError(server.Chat(UserParts(AudioPart(image::test::Base64(garbage)))), 400, "invalid_audio");
  ExpectError(server.Chat(UserParts(AudioPart("UklG$$$"))), 400, "invalid_audio");
  ExpectError(server.Chat(UserParts(AudioPart(wav, "ogg"))), 400, "invalid_value");
  ExpectError(server.Chat(UserParts(AudioPart(std::string(36 << 20, 'A')))), 413, "audio_too_large");
  ExpectError(server.Chat(UserParts(R"({"type":"input_audio","input_audio":{"format":"wav"}})")), 400,
              "missing_required_parameter");
  // One clip more than a request may hold (0.1 s of silence each).
  std::vector<uint8_t> tiny = {'R', 'I',  'F', 'F', 0, 0, 0,  0, 'W', 'A', 'V',  'E',  'f', 'm',
                               't', ' ',  16,  0,   0, 0, 1,  0, 1,   0,   0x80, 0x3e, 0,   0,
                               0,   0x7d, 0,   0,   2, 0, 16, 0, 'd', 'a', 't',  'a'};
  const uint32_t data_bytes = 3200;
  for (int i = 0; i < 4; ++i) tiny.push_back(uint8_t(data_bytes >> (8 * i)));
  tiny.resize(tiny.size() + data_bytes, 0);
  const uint32_t riff = uint32_t(tiny.size() - 8);
  for (int i = 0; i < 4; ++i) tiny[4 + size_t(i)] = uint8_t(riff >> (8 * i));
  std::string many;
  for (size_t i = 0; i <= kMaxAudioClipsPerRequest; ++i) many += (i ? "," : "") + AudioPart(image::test::Base64(tiny));
  ExpectError(server.Chat(UserParts(many)), 400, "too_many_audio_clips");
  EXPECT_EQ(server.loop().stats().audio_encoded, 0u);
  // Text, and a good clip, are answered.
  const httplib::Result ok = server.Chat(R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":2})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(ReplyText(server.Chat(UserParts(AudioPart(image::test::Base64(tiny)), 2))).rfind("<status", 0),
            std::string::npos);
  EXPECT_EQ(server.loop().stats().audio_encoded, 1u);
}

// A model without an audio tower: a good clip is refused with an OpenAI error that says so, and an
// image request on the same server is still answered.
TEST(ServeMedia, AudioToAModelWithoutAnAudioTowerIsRefused) {
  VisionServer server;
  const std::string wav = image::test::Base64(image::test::ReadBytes(kAudioModelDir + "/audio.wav"));
  const httplib::Result refused = server.Chat(UserParts(AudioPart(wav)));
  ExpectError(refused, 400, "audio_not_supported");
  EXPECT_NE(refused->body.find("takes no audio (it has no audio tower)"), std::string::npos) << refused->body;
  const httplib::Result ok = server.Chat(R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":2})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

}  // namespace
}  // namespace vkg::serve
