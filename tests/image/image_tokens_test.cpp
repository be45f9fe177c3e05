// The prompt tokens of images: the ids and default budget from a checkpoint's files, the expansion
// of each <|image|> place into BOI, soft tokens x image token, EOI (Gemma4Processor), and the runs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "host/error.h"
#include "host/image/image_input.h"

namespace vkg::image {
namespace {

namespace fs = std::filesystem;

class ImageTokens : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vkg_image_tokens_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  std::string ErrorOf(const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  }
  fs::path dir_;
};

TEST_F(ImageTokens, IdsComeFromConfigJsonWithAVisionTower) {
  Write("config.json", R"({"text_config": {"vocab_size": 256}})");
  EXPECT_FALSE(ReadImageTokenIds(dir_).has_value());
  Write("config.json", R"({"vision_config": null, "image_token_id": 5})");
  EXPECT_FALSE(ReadImageTokenIds(dir_).has_value());
  Write(
      "config.json",
      R"({"vision_config": {"hidden_size": 768}, "boi_token_id": 255999, "image_token_id": 258880, "eoi_token_id": 258882})");
  const std::optional<ImageTokenIds> ids = ReadImageTokenIds(dir_);
  ASSERT_TRUE(ids.has_value());
  EXPECT_EQ(ids->boi, 255999);
  EXPECT_EQ(ids->image, 258880);
  EXPECT_EQ(ids->eoi, 258882);
  Write("config.json", R"({"vision_config": {}, "boi_token_id": 1, "image_token_id": "x", "eoi_token_id": 3})");
  EXPECT_EQ(
      ErrorOf([&] { ReadImageTokenIds(dir_); }),
      (dir_ / "config.json").string() + ": vision_config is there but \"image_token_id\" is missing or not a token id");
  Write("config.json", "{");
  EXPECT_NE(ErrorOf([&] { ReadImageTokenIds(dir_); }).find("invalid JSON"), std::string::npos);
  EXPECT_FALSE(ReadImageTokenIds(dir_ / "model.gguf").has_value());
}

TEST_F(ImageTokens, DefaultBudgetFromTheProcessorConfig) {
  EXPECT_EQ(DefaultSoftTokenBudget(dir_), 280u);
  Write("preprocessor_config.json", R"({"max_soft_tokens": 560})");
  EXPECT_EQ(DefaultSoftTokenBudget(dir_), 560u);
  // processor_config.json's image processor wins over preprocessor_config.json, and its
  // max_soft_tokens over the processor's image_seq_length.
  Write("processor_config.json", R"({"image_processor": {"max_soft_tokens": 1120}, "image_seq_length": 280})");
  EXPECT_EQ(DefaultSoftTokenBudget(dir_), 1120u);
  Write("processor_config.json", R"({"image_seq_length": 140})");
  EXPECT_EQ(DefaultSoftTokenBudget(dir_), 560u);  // max_soft_tokens anywhere first
  // A value that is not a budget, or a broken file, leaves the next source / the default.
  Write("processor_config.json", R"({"image_processor": {"max_soft_tokens": 100}})");
  EXPECT_EQ(DefaultSoftTokenBudget(dir_), 560u);
  Write("processor_config.json", "not json");
  Write("preprocessor_config.json", "[");
  EXPECT_EQ(DefaultSoftTokenBudget(dir_), 280u);
}

TEST(ImageTokenRuns, PlaceholdersExpandAsGemma4ProcessorDoes) {
  const ImageTokenIds t{10, 11, 12};
  const std::vector<int32_t> ids = {2, 5, 11, 6, 11, 7};
  const std::vector<uint32_t> counts = {2, 3};
  EXPECT_EQ(ExpandImagePlaceholders(ids, t, counts),
            (std::vector<int32_t>{2, 5, 10, 11, 11, 12, 6, 10, 11, 11, 11, 12, 7}));
  const std::vector<uint32_t> one = {2};
  try {
    ExpandImagePlaceholders(ids, t, one);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "the prompt has 2 image place(s) but 1 image(s) were given");
  }
}

TEST(ImageTokenRuns, SpansAreCheckedAgainstTheImages) {
  std::vector<PreprocessedImage> images(2);
  images[0].soft_tokens = 2;
  images[1].soft_tokens = 3;
  const std::vector<int32_t> ids = {2, 10, 11, 11, 12, 10, 11, 11, 11, 12, 7};
  const std::vector<ImageSpan> spans = FindImageSpans(ids, 11, images);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].first, 2u);
  EXPECT_EQ(spans[0].length, 2u);
  EXPECT_EQ(spans[1].first, 6u);
  EXPECT_EQ(spans[1].length, 3u);
  images[1].soft_tokens = 4;
  try {
    FindImageSpans(ids, 11, images);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "image 2 has 4 soft tokens but its run of image tokens at position 6 has 3");
  }
  EXPECT_THROW(FindImageSpans(ids, 11, std::span(images).first(1)), Error);
}

}  // namespace
}  // namespace vkg::image
