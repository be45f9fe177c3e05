// Hugging Face's Gemma 4 image preprocessing (Gemma4ImageProcessorPil) reproduced: target sizes,
// PIL's bicubic resize, patches and positions, against pixels HF computed (tests/data/gemma4-image).
#include <gtest/gtest.h>

#include <cmath>

#include "host/error.h"
#include "host/image/image_input.h"
#include "host/image/pil_resize.h"
#include "tests/image/image_fixture.h"

namespace vkg::image {
namespace {

using test::DataDir;
using test::Manifest;

// Every case: the budget's target size and soft tokens as HF's, and every pixel_values entry within
// one 8-bit step of HF's (the resize reproduces Pillow's integer arithmetic, so in fact equal).
TEST(ImagePreprocess, MatchesHuggingFacePixelValues) {
  ASSERT_GE(Manifest()["preprocess"].size(), 12u);
  for (const auto& c : Manifest()["preprocess"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const PreprocessedImage got =
        LoadAndPreprocess(DataDir() / c["file"].get<std::string>(), c["budget"].get<uint32_t>());
    ASSERT_EQ(got.width, c["width"].get<uint32_t>());
    ASSERT_EQ(got.height, c["height"].get<uint32_t>());
    ASSERT_EQ(got.soft_tokens, c["soft_tokens"].get<uint32_t>());
    ASSERT_EQ(got.patches_x * got.patches_y, got.patches());
    ASSERT_EQ(got.pixels.size(), got.patches() * kPatchValues);
    // The expected 8-bit resized image, cut into patches the way HF does.
    const RgbImage want = LoadImageFile(DataDir() / c["expected"].get<std::string>());
    ASSERT_EQ(want.width, got.width);
    ASSERT_EQ(want.height, got.height);
    float worst = 0;
    size_t exact = 0;
    for (size_t p = 0; p < got.patches(); ++p) {
      ASSERT_EQ(got.pos_x[p], int32_t(p % got.patches_x));
      ASSERT_EQ(got.pos_y[p], int32_t(p / got.patches_x));
      for (uint32_t r = 0; r < kPatchSize; ++r) {
        for (uint32_t col = 0; col < kPatchSize; ++col) {
          for (uint32_t ch = 0; ch < 3; ++ch) {
            const size_t y = size_t(got.pos_y[p]) * kPatchSize + r, x = size_t(got.pos_x[p]) * kPatchSize + col;
            const float hf = float(double(want.rgb[(y * want.width + x) * 3 + ch]) / 255.0);
            const float ours = got.pixels[p * kPatchValues + (r * kPatchSize + col) * 3 + ch];
            worst = std::max(worst, std::fabs(hf - ours));
            exact += hf == ours;
          }
        }
      }
    }
    EXPECT_LE(worst, 1.0f / 255.0f + 1e-6f);
    RecordProperty(c["name"].get<std::string>() + "_exact",
                   std::to_string(exact) + "/" + std::to_string(got.pixels.size()));
    EXPECT_EQ(exact, got.pixels.size()) << "largest difference " << worst * 255 << " steps";
  }
}

// get_aspect_ratio_preserving_size's rule, including the one-row path of very long images.
TEST(ImagePreprocess, TargetSizes) {
  const auto size = [](uint32_t h, uint32_t w, uint32_t budget) {
    const TargetSize t = AspectPreservingSize(h, w, budget);
    return std::to_string(t.height) + "x" + std::to_string(t.width);
  };
  EXPECT_EQ(size(150, 200, 70), "336x432");
  EXPECT_EQ(size(260, 120, 70), "576x240");
  EXPECT_EQ(size(20, 3000, 70), "48x3360");  // one row of soft tokens, width capped at 70 x 48
  EXPECT_EQ(size(3000, 20, 1120), "19632x96");
  EXPECT_EQ(size(1, 100000, 280), "48x13440");
  EXPECT_EQ(size(768, 768, 280), "768x768");  // 16 x 16 soft tokens: 256 of 280
  EXPECT_EQ(size(4000, 3000, 1120), "1824x1344");
  EXPECT_EQ(size(7, 3024, 70), "48x3360");
  EXPECT_EQ(size(1, 1, 70), "384x384");
  EXPECT_EQ(size(4032, 1, 1120), "53760x48");  // (all as HF's function returns them)
  for (uint32_t budget : kSoftTokenBudgets) {
    for (uint32_t h : {1u, 7u, 48u, 333u, 1080u, 4032u}) {
      for (uint32_t w : {1u, 9u, 48u, 640u, 1920u, 3024u}) {
        const TargetSize t = AspectPreservingSize(h, w, budget);
        EXPECT_EQ(t.height % 48, 0u);
        EXPECT_EQ(t.width % 48, 0u);
        EXPECT_LE(uint64_t(t.height / 16) * (t.width / 16), uint64_t(budget) * 9) << h << "x" << w << " @" << budget;
      }
    }
  }
}

TEST(ImagePreprocess, BudgetMustBeOneOfFive) {
  RgbImage img;
  img.width = img.height = 48;
  img.rgb.assign(48 * 48 * 3, 7);
  EXPECT_THROW(Preprocess(img, 100), Error);
  try {
    ParseSoftTokenBudget("300");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "--image-tokens must be one of 70, 140, 280, 560, 1120; got '300'");
  }
  EXPECT_EQ(ParseSoftTokenBudget("1120"), 1120u);
}

// An image already at its target size is not resampled (HF returns it unchanged).
TEST(ImagePreprocess, TargetSizedImagePassesThrough) {
  RgbImage img;
  img.width = 432;
  img.height = 336;
  img.rgb.resize(size_t(img.width) * img.height * 3);
  for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = uint8_t(i * 7919 % 251);
  const PreprocessedImage p = Preprocess(img, 70);
  ASSERT_EQ(p.width, 432u);
  // Patch 1 (px 1, py 0), row 2, column 3, channel 1 comes from pixel (x 19, y 2).
  EXPECT_EQ(p.pixels[1 * kPatchValues + (2 * 16 + 3) * 3 + 1], float(img.rgb[(2 * 432 + 19) * 3 + 1] / 255.0));
}

// Pillow's resize on constant images: the weights sum to 1 in fixed point, so constants stay.
TEST(ImagePreprocess, ResizeKeepsConstantImages) {
  for (uint8_t v : {0, 1, 128, 254, 255}) {
    RgbImage img;
    img.width = 97;
    img.height = 31;
    img.rgb.assign(97 * 31 * 3, v);
    for (auto [w, h] : {std::pair{48u, 48u}, {300u, 20u}, {5u, 200u}}) {
      const RgbImage out = ResizeBicubicLikePil(img, w, h);
      for (uint8_t o : out.rgb) ASSERT_EQ(o, v);
    }
  }
}

}  // namespace
}  // namespace vkg::image
