// Image input as the model sees it: an image file decoded to RGB, then Hugging Face's Gemma 4
// preprocessing (Gemma4ImageProcessorPil) to patches and positions, and the prompt tokens that
// stand for it (layer: host/image, CPU only; no Vulkan, no model weights).
// The vision tower (host/model + host/reference + host/runtime) consumes a PreprocessedImage; the
// CLI and the server produce one per image from a file or a data: URL.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace vkg::image {

// Gemma 4's fixed geometry (preprocessor_config.json: patch_size 16, pooling_kernel_size 3).
constexpr uint32_t kPatchSize = 16;
constexpr uint32_t kPoolingKernel = 3;                               // soft token = 3x3 patches
constexpr uint32_t kPatchValues = kPatchSize * kPatchSize * 3;       // 768 floats per patch
constexpr uint32_t kSideMultiple = kPatchSize * kPoolingKernel;      // 48: resized sides are multiples
constexpr uint32_t kSoftTokenBudgets[] = {70, 140, 280, 560, 1120};  // --image-tokens choices
constexpr uint32_t kDefaultSoftTokenBudget = 280;
// Decoders refuse images over this many pixels before allocating them (a 10000 x 10000 photo
// passes; a 65535 x 65535 "decompression bomb" header does not).
constexpr uint64_t kDefaultMaxPixels = 100'000'000;

// A decoded image: 8-bit RGB, alpha dropped (PIL's convert("RGB")), EXIF orientation applied.
struct RgbImage {
  uint32_t width = 0;
  uint32_t height = 0;
  std::vector<uint8_t> rgb;  // [height][width][3]
};

// One image after Gemma4ImageProcessorPil: resized to width x height (multiples of 48, at most
// max_soft_tokens x 9 patches), rescaled by 1/255, cut into 16x16 patches. Padding patches are not
// included (HF pads to max_soft_tokens x 9 with positions -1; the tower ignores those).
struct PreprocessedImage {
  uint32_t width = 0;  // resized size in pixels
  uint32_t height = 0;
  uint32_t patches_x = 0;    // width / 16
  uint32_t patches_y = 0;    // height / 16
  uint32_t soft_tokens = 0;  // patches_x * patches_y / 9: the tower's output rows for this image
  // [patches][768] in [0, 1]; patch p = py * patches_x + px (row-major over the patch grid), inside a
  // patch (row, col, channel) order: value (r * 16 + c) * 3 + ch. Exactly HF's pixel_values rows.
  std::vector<float> pixels;
  std::vector<int32_t> pos_x;  // [patches] px (HF image_position_ids[..., 0])
  std::vector<int32_t> pos_y;  // [patches] py (HF image_position_ids[..., 1])
  size_t patches() const { return pos_x.size(); }
};

// ---- Decoding (image_decode.cpp) ----
// PNG, JPEG, WebP, GIF (first frame), BMP, recognised by their bytes, not the file name. Any
// failure throws vkg::Error with one line naming `name` (a path or "image 2 of the request").
RgbImage DecodeImage(std::span<const uint8_t> bytes, const std::string& name, uint64_t max_pixels = kDefaultMaxPixels);
RgbImage LoadImageFile(const std::filesystem::path& path, uint64_t max_pixels = kDefaultMaxPixels);

// ---- Preprocessing (preprocess.cpp) ----
// HF's get_aspect_ratio_preserving_size: {height, width}.
struct TargetSize {
  uint32_t height = 0;
  uint32_t width = 0;
};
TargetSize AspectPreservingSize(uint32_t height, uint32_t width, uint32_t max_soft_tokens);
// Resize (PIL bicubic with antialias, 8-bit between passes), rescale, patchify. max_soft_tokens
// must be one of kSoftTokenBudgets (throws otherwise).
PreprocessedImage Preprocess(const RgbImage& image, uint32_t max_soft_tokens);
// LoadImageFile + Preprocess.
PreprocessedImage LoadAndPreprocess(const std::filesystem::path& path, uint32_t max_soft_tokens);

// ---- Prompt tokens (image_tokens.cpp) ----
// The special ids from config.json (boi_token_id, image_token_id, eoi_token_id); a checkpoint
// without "vision_config" has none.
struct ImageTokenIds {
  int32_t boi = -1;
  int32_t image = -1;  // one per soft token
  int32_t eoi = -1;
};
// Reads config.json in model_dir (a GGUF path: nullopt for now). nullopt when there is no
// vision_config; throws when vision_config is there but an id is missing.
std::optional<ImageTokenIds> ReadImageTokenIds(const std::filesystem::path& model_dir);
// "--image-tokens" default: processor_config.json / preprocessor_config.json "max_soft_tokens"
// (or "image_seq_length") when it is one of kSoftTokenBudgets, else 280.
uint32_t DefaultSoftTokenBudget(const std::filesystem::path& model_dir);
// Parses "70|140|280|560|1120"; throws vkg::Error naming the choices otherwise.
uint32_t ParseSoftTokenBudget(const std::string& text);

// A run of image_token_id in a prompt: where one image's soft tokens go.
struct ImageSpan {
  size_t first = 0;     // index in the token list of the first soft-token position
  uint32_t length = 0;  // = that image's soft_tokens
};
// Each image placeholder (a lone image_token_id, as the chat template writes `<|image|>`) becomes
// BOI, soft_tokens[i] x image_token_id, EOI, as Gemma4Processor does. Throws when the number of
// placeholders differs from soft_tokens.size().
std::vector<int32_t> ExpandImagePlaceholders(std::span<const int32_t> ids, const ImageTokenIds& tokens,
                                             std::span<const uint32_t> soft_tokens);
// The maximal runs of image_token_id, in order (for `logits --tokens` lists already expanded, and
// for the tower to know where to scatter). Throws when their count or lengths differ from images'.
std::vector<ImageSpan> FindImageSpans(std::span<const int32_t> ids, int32_t image_token_id,
                                      std::span<const PreprocessedImage> images);

}  // namespace vkg::image
