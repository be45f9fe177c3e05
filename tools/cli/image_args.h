// Image input for the model commands (layer: tools): the --image/--image-tokens options, loading
// the images of a prompt (host/image), the prompt's content parts, and the one call that hands the
// images to the engine's vision tower (AttachImages, image_engine.cpp).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "host/image/image_input.h"
#include "host/model/config.h"
#include "host/text/chat_template.h"
#include "tools/cli/options.h"

namespace vkg {
class Engine;
namespace serve {
struct ServedModel;
}
}  // namespace vkg

namespace vkg::cli {

// --image FILE (repeatable, in prompt order) and --image-tokens 70|140|280|560|1120.
struct ImageFlags {
  std::vector<std::string> files;
  std::optional<uint32_t> budget;  // unset: the checkpoint's processor config, else 280
};
void AddImageOptions(OptionParser& parser, ImageFlags* flags);
constexpr const char* kImageOptionsHelp =
    "  --image FILE        an image for the prompt (PNG, JPEG, WebP, GIF first frame, BMP); repeat\n"
    "                      for several, in order. Needs a checkpoint with a vision tower\n"
    "  --image-tokens N    soft tokens per image: 70, 140, 280, 560 or 1120 (default: the\n"
    "                      checkpoint's processor config, else 280; more reads small text better)\n";

// The images of one prompt, preprocessed, with the checkpoint's image token ids.
struct PromptImages {
  image::ImageTokenIds tokens;
  uint32_t budget = image::kDefaultSoftTokenBudget;
  std::vector<image::PreprocessedImage> images;  // in prompt order
  std::vector<image::ImageSpan> spans;           // where each image's soft tokens sit in the prompt
};

// The checkpoint's image token ids, or Error "<model>: this checkpoint has no vision tower ..."
// (`what` names what asked: "--image", "/image", "an image in the request").
// A GGUF text model takes its tower and ids from `mmproj` (--mmproj; "" = none given).
image::ImageTokenIds RequireVisionTower(const std::string& model_dir, const std::string& mmproj,
                                        const std::string& what);
// The soft-token budget for the command: the flag, else the checkpoint's default.
uint32_t ImageBudget(const std::string& model_dir, const ImageFlags& flags);

// A user prompt with images as content parts: each "<__media__>" marker in the text (llama.cpp's
// spelling) places the next image; without markers the images come first, then the text (as Hugging
// Face's examples put them). Markers and images must then agree in number (UsageError otherwise).
std::vector<ContentPart> PromptParts(const std::string& prompt, size_t images);
constexpr const char* kMediaMarker = "<__media__>";

// The soft-token counts of the images, in order (for ExpandImagePlaceholders).
std::vector<uint32_t> SoftTokenCounts(std::span<const image::PreprocessedImage> images);

// The vision tower's entry point for the CLI: the next evaluation of `prompt` (from the engine's
// n_past onward) uses each image's soft tokens at its span instead of the image-token embeddings;
// spans before n_past are already in the engine's cache. Throws vkg::Error when the engine cannot.
void AttachImages(Engine& engine, std::span<const int32_t> prompt, const PromptImages& images);

// `serve`: whether requests may hold images (served->image_tokens, image_budget; a model with a
// vision tower), and the most soft tokens per image (max_image_tokens: the prompt chunk, where an
// image's tokens attend to each other and are read in one chunk).
void ConfigureServedImages(const std::string& model_dir, const ModelConfig& config, uint32_t prefill_chunk,
                           serve::ServedModel* served);

}  // namespace vkg::cli
