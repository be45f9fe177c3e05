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

void ConfigureServedImages(const std::string& model_dir, const ModelConfig& config, uint32_t prefill_chunk,
                           serve::ServedModel* served) {
  served->image_budget = image::DefaultSoftTokenBudget(model_dir);
  if (!config.mm.has_vision) return;  // image parts refused (400): no vision tower
  // The loaded config's ids: config.json's, or a GGUF vocabulary's with --mmproj (gguf_mmproj.h).
  served->image_tokens = image::ImageTokenIds{config.mm.boi_token_id, config.mm.image_token_id, config.mm.eoi_token_id};
  // An image whose tokens attend to each other is read in one prompt chunk (BatchEngine::AttachImages).
  if (config.mm.bidirectional_vision) served->max_image_tokens = prefill_chunk;
}

}  // namespace vkg::cli
