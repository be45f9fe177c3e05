// AttachImages: where the CLI hands a prompt's images to the engine's vision tower (layer: tools).
// The vision tower (host/model, host/reference, host/runtime) is being written on its own branch;
// until it is merged this refuses with one error line, after every check that needs no tower
// (the checkpoint has vision_config, the files decode, the token runs match the images).
#include "host/error.h"
#include "tools/cli/image_args.h"

namespace vkg::cli {

void AttachImages(Engine& engine, std::span<const int32_t> prompt, const PromptImages& images) {
  (void)engine;
  (void)prompt;
  throw Error("image input needs the vision tower, which this build of vkgemma does not run yet (" +
              std::to_string(images.images.size()) + " image(s) preprocessed)");
}

}  // namespace vkg::cli
