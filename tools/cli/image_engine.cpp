// AttachImages: where the CLI hands a prompt's images to the engine's vision tower (layer: tools).
// Each image whose soft tokens lie in the part of the prompt the engine has not evaluated yet
// (from n_past on) goes to Engine::AttachImages as patches; the next Forward encodes it (CPU
// reference or device tower) and places its soft tokens. Images before n_past are in the cache
// already (a conversation re-sends its earlier images): they are not encoded again.
#include "host/error.h"
#include "host/runtime/engine.h"
#include "host/serve/openai_request.h"
#include "tools/cli/image_args.h"

namespace vkg::cli {

void AttachImages(Engine& engine, std::span<const int32_t> prompt, const PromptImages& images) {
  (void)prompt;
  const size_t n_past = engine.n_past();
  std::vector<ImagePatches> pending;
  for (size_t i = 0; i < images.images.size(); ++i) {
    const image::PreprocessedImage& im = images.images[i];
    const image::ImageSpan& span = images.spans.at(i);
    if (span.first + span.length <= n_past) continue;  // already in the cache
    if (span.first < n_past) {
      throw Error("image " + std::to_string(i + 1) + " is partly in the cache already; start the prompt again");
    }
    pending.push_back(ImagePatches::Grid(int(im.patches_x), int(im.patches_y), im.pixels));
  }
  engine.AttachImages(std::move(pending));
}

void ConfigureServedImages(const std::string& model_dir, serve::ServedModel* served) {
  served->image_budget = image::DefaultSoftTokenBudget(model_dir);
  // Not yet: the batch engine does not run the vision tower, so image parts are refused (400).
  if (image::ReadImageTokenIds(model_dir)) {
    served->no_images_reason = "this build of vkgemma does not run the served model's vision tower yet";
  }
}

}  // namespace vkg::cli
