// `vkgemma serve` with media over HTTP, in-process on the CPU reference with the tiny ple-vision
// checkpoint (tests/data/gemma4-mm): an image request is answered; the same image again is
// answered from the slot's cache without running the vision tower, and another image of the same
// size (identical token ids) is encoded. Hostile media (issue 20's rules): a huge base64 image,
// bad base64, a decompression-bomb PNG, too many images per request, and audio (refused in this
// build, and malformed) each get their 4xx with an OpenAI error object, and the server goes on
// answering.
#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "host/image/image_input.h"
#include "host/serve/http_server.h"
#include "tests/image/base64.h"
#include "tests/image/image_fixture.h"
#include "tests/serve/http_test_util.h"

namespace vkg::serve {
namespace {

using json = nlohmann::json;
using http_test::ExpectError;

const std::string kModelDir = std::string(VKG_TEST_DATA_DIR) + "/gemma4-mm/ple-vision";

// A server of the ple-vision checkpoint (1 CPU slot; the byte-level test tokenizer, whose 256 ids
// are the checkpoint's vocabulary) on a free loopback port, bodies up to 64 MiB.
class VisionServer {
 public:
  VisionServer()
      : tokenizer_(tok::Tokenizer::Load(serve_test::TinyModelDir())),
        template_(ChatTemplate::Load(serve_test::TinyModelDir())) {
    EngineOptions eo;
    eo.device = "cpu";
    eo.context = 256;
    engine_ = BatchEngine::Open(kModelDir, eo, 1);
    model_.id = "ple-vision";
    model_.context = engine_->context();
    model_.tokenizer = &tokenizer_;
    model_.chat_template = &template_;
    model_.image_tokens = image::ReadImageTokenIds(kModelDir);
    model_.image_budget = image::DefaultSoftTokenBudget(kModelDir);  // 70
    loop_ = std::make_unique<BatchLoop>(*engine_, tokenizer_, BatchLoopOptions{});
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
  const BatchLoop& loop() const { return *loop_; }

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

TEST(ServeMedia, AudioPartsAreCheckedThenRefusedInThisBuild) {
  VisionServer server;
  const std::string wav = image::test::Base64(std::vector<uint8_t>{'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E'});
  const httplib::Result refused = server.Chat(UserParts(AudioPart(wav)));
  ExpectError(refused, 400, "audio_not_supported");
  EXPECT_NE(refused->body.find("audio input is not available in this build"), std::string::npos) << refused->body;
  ExpectError(server.Chat(UserParts(AudioPart("UklG$$$"))), 400, "invalid_audio");
  ExpectError(server.Chat(UserParts(AudioPart(wav, "ogg"))), 400, "invalid_value");
  ExpectError(server.Chat(UserParts(AudioPart(std::string(36 << 20, 'A')))), 413, "audio_too_large");
  ExpectError(server.Chat(UserParts(R"({"type":"input_audio","input_audio":{"format":"wav"}})")), 400,
              "missing_required_parameter");
  const httplib::Result ok = server.Chat(R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":2})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

}  // namespace
}  // namespace vkg::serve
