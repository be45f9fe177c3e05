// AttachImages: where the CLI hands a prompt's images to the engine's vision tower (layer: tools).
// The vision tower (host/model, host/reference, host/runtime) is being written on its own branch;
// until it is merged this refuses with one error line, after every check that needs no tower
// (the checkpoint has vision_config, the files decode, the token runs match the images).
#include "host/error.h"
#include "host/serve/openai_request.h"
#include "tools/cli/image_args.h"

namespace vkg::cli {

void AttachImages(Engine& engine, std::span<const int32_t> prompt, const PromptImages& images) {
  (void)engine;
  (void)prompt;
  throw Error("image input needs the vision tower, which this build of vkgemma does not run yet (" +
              std::to_string(images.images.size()) + " image(s) preprocessed)");
}

void ConfigureServedImages(const std::string& model_dir, serve::ServedModel* served) {
  served->image_budget = image::DefaultSoftTokenBudget(model_dir);
  // Not yet: the batch engine does not run the vision tower, so image parts are refused (400).
  if (image::ReadImageTokenIds(model_dir)) {
    served->no_images_reason = "this build of vkgemma does not run the served model's vision tower yet";
  }
}

}  // namespace vkg::cli
