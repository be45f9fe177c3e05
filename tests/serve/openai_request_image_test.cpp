// Images in chat requests: OpenAI image_url content parts with inline data: URLs become the image's
// token run where the message puts it; remote URLs, bad data, broken or oversized images and a
// model without a vision tower are 4xx with an OpenAI-style error naming the field.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "host/image/image_input.h"
#include "host/runtime/generate.h"
#include "host/serve/openai_request.h"
#include "host/text/chat_template.h"
#include "tests/image/base64.h"
#include "tests/image/image_fixture.h"
#include "tests/serve/serve_test_util.h"

namespace vkg::serve {
namespace {

using Error3 = std::tuple<int, std::string, std::string>;

class OpenAiImageRequest : public ::testing::Test {
 protected:
  OpenAiImageRequest()
      : tokenizer_(tok::Tokenizer::Load(serve_test::TinyModelDir())),
        template_(ChatTemplate::Load(serve_test::TinyModelDir())) {
    model_.id = "tiny";
    model_.context = 512;
    model_.tokenizer = &tokenizer_;
    model_.chat_template = &template_;
    model_.stop_ids = StopTokenIds(tokenizer_, model_.generation);
    model_.image_tokens = image::ImageTokenIds{250, 252, 251};
    model_.image_budget = 70;
  }
  std::tuple<int, std::string, std::string> ErrorOf(const std::string& body) {
    try {
      ParseRequest(Endpoint::kChatCompletions, body, model_);
    } catch (const ApiError& err) {
      const auto j = nlohmann::json::parse(ErrorBody(err));
      EXPECT_TRUE(j["error"]["message"].is_string());
      return {err.status, err.code, err.param};
    }
    return {200, "", ""};
  }
  static std::string DataUrl(const std::string& file) {
    return "data:image/png;base64," + image::test::Base64(image::test::ReadBytes(image::test::DataDir() / file));
  }
  static std::string UserParts(const std::string& parts) {
    return R"({"messages":[{"role":"user","content":[)" + parts + "]}]}";
  }
  static std::string ImagePart(const std::string& url) {
    return R"({"type":"image_url","image_url":{"url":")" + url + R"("}})";
  }

  tok::Tokenizer tokenizer_;
  ChatTemplate template_;
  ServedModel model_;
};

TEST_F(OpenAiImageRequest, ImagePartBecomesItsTokenRunWhereTheMessagePutsIt) {
  const ParsedRequest r =
      ParseRequest(Endpoint::kChatCompletions,
                   UserParts(R"({"type":"text","text":"Look:"},)" + ImagePart(DataUrl("ple_vision.png")) +
                             R"(,{"type":"text","text":"what is it?"})"),
                   model_);
  ASSERT_EQ(r.images.size(), 1u);
  const image::PreprocessedImage want =
      image::LoadAndPreprocess(image::test::DataDir() / "ple_vision.png", model_.image_budget);
  EXPECT_EQ(r.images[0].pixels, want.pixels);
  EXPECT_EQ(r.images[0].soft_tokens, 63u);
  // The prompt: the template's rendering with "<|image|>" -> BOI, 63 x image token, EOI.
  ChatMessage m{"user",
                "",
                {{ContentPart::Kind::kText, "Look:"},
                 {ContentPart::Kind::kImage, ""},
                 {ContentPart::Kind::kText, "what is it?"}}};
  ChatOptions o;
  o.image_token_id = 252;
  const std::vector<int32_t> placeholder = template_.Encode(tokenizer_, std::vector<ChatMessage>{m}, o);
  const std::vector<uint32_t> counts = {63};
  EXPECT_EQ(r.sequence.prompt, image::ExpandImagePlaceholders(placeholder, *model_.image_tokens, counts));
  ASSERT_EQ(r.image_spans.size(), 1u);
  EXPECT_EQ(r.image_spans[0].length, 63u);
  EXPECT_EQ(r.sequence.prompt[r.image_spans[0].first - 1], 250);
  EXPECT_EQ(r.sequence.prompt[r.image_spans[0].first + 63], 251);
  // Text before the image stays before it.
  const std::vector<int32_t> look = tokenizer_.Encode("Look:", tok::SpecialTokens::kAsText);
  const auto at = std::search(r.sequence.prompt.begin(), r.sequence.prompt.end(), look.begin(), look.end());
  EXPECT_LT(size_t(at - r.sequence.prompt.begin()), r.image_spans[0].first);
}

TEST_F(OpenAiImageRequest, TwoImagesAndTheStringForm) {
  const ParsedRequest r =
      ParseRequest(Endpoint::kChatCompletions,
                   UserParts(ImagePart(DataUrl("decode_pal4.png")) + R"(,{"type":"image_url","image_url":")" +
                             DataUrl("gray_160x120.png") + R"("},{"type":"text","text":"same?"})"),
                   model_);
  ASSERT_EQ(r.images.size(), 2u);
  ASSERT_EQ(r.image_spans.size(), 2u);
  EXPECT_LT(r.image_spans[0].first + r.image_spans[0].length, r.image_spans[1].first);
}

TEST_F(OpenAiImageRequest, RefusalsNameTheField) {
  const std::string f = "messages[0].content[0].image_url.url";
  EXPECT_EQ(ErrorOf(UserParts(ImagePart("https://example.com/cat.png"))), Error3(400, "unsupported_image_url", f));
  EXPECT_EQ(ErrorOf(UserParts(ImagePart("file:///etc/passwd"))), Error3(400, "invalid_image_url", f));
  EXPECT_EQ(ErrorOf(UserParts(ImagePart("data:image/png;base64,@@@@"))), Error3(400, "invalid_image_url", f));
  EXPECT_EQ(ErrorOf(UserParts(ImagePart("data:image/png;base64,aGVsbG8="))), Error3(400, "invalid_image", f));
  EXPECT_EQ(ErrorOf(UserParts(ImagePart("data:image/png;base64," + std::string(30 << 20, 'A')))),
            Error3(413, "image_too_large", f));
  EXPECT_EQ(ErrorOf(UserParts(R"({"type":"image_url"})")),
            Error3(400, "missing_required_parameter", "messages[0].content[0].image_url"));
  EXPECT_EQ(ErrorOf(UserParts(R"({"type":"image_url","image_url":{"url":5}})")), Error3(400, "invalid_type", f));
  EXPECT_EQ(ErrorOf(UserParts(R"({"type":"image_url","image_url":{"url":"x","size":1}})")),
            Error3(400, "unknown_parameter", "messages[0].content[0].image_url.size"));
  EXPECT_EQ(ErrorOf(UserParts(R"({"type":"video_url"})")), Error3(400, "invalid_value", "messages[0].content[0].type"));
  std::string many;
  for (int i = 0; i < 17; ++i) many += (i ? "," : "") + ImagePart(DataUrl("decode_pal4.png"));
  EXPECT_EQ(ErrorOf(UserParts(many)), Error3(400, "too_many_images", "messages[0].content[16]"));
  // A decoded image past the server's pixel limit.
  EXPECT_EQ(ErrorOf(UserParts(ImagePart(DataUrl("huge_12000x12000.png")))), Error3(400, "invalid_image", f));
  // Without a vision tower (or a server not running it), images are refused by their type.
  model_.image_tokens.reset();
  EXPECT_EQ(ErrorOf(UserParts(ImagePart(DataUrl("decode_pal4.png")))),
            Error3(400, "invalid_value", "messages[0].content[0].type"));
}

}  // namespace
}  // namespace vkg::serve
