// Image input for the model commands: options, checks before the model loads, content parts
// (layer: tools).
#include "tools/cli/image_args.h"

#include "host/error.h"
#include "host/model/checkpoint.h"
#include "tools/cli/commands.h"

namespace vkg::cli {

void AddImageOptions(OptionParser& parser, ImageFlags* flags) {
  parser.Value({"--image"}, [flags](const std::string& v) { flags->files.push_back(v); })
      .Value({"--image-tokens"}, [flags](const std::string& v) {
        try {
          flags->budget = image::ParseSoftTokenBudget(v);
        } catch (const Error& e) {
          throw UsageError(e.what());
        }
      });
}

image::ImageTokenIds RequireVisionTower(const std::string& model_dir, const std::string& mmproj,
                                        const std::string& what) {
  if (IsGgufPath(model_dir)) {
    if (mmproj.empty()) {
      throw Error(model_dir + " is a GGUF text model: give its vision projector with --mmproj FILE to take " + what);
    }
    const ModelConfig c = Checkpoint::LoadConfigOf(model_dir, mmproj);
    return image::ImageTokenIds{c.mm.boi_token_id, c.mm.image_token_id, c.mm.eoi_token_id};
  }
  const std::optional<image::ImageTokenIds> ids = image::ReadImageTokenIds(model_dir);
  if (!ids) {
    throw Error(model_dir + " has no vision tower (no vision_config in its config.json), so it cannot take " + what);
  }
  return *ids;
}

uint32_t ImageBudget(const std::string& model_dir, const ImageFlags& flags) {
  return flags.budget ? *flags.budget : image::DefaultSoftTokenBudget(model_dir);
}

std::vector<ContentPart> PromptParts(const std::string& prompt, size_t images) {
  const std::string marker = kMediaMarker;
  std::vector<ContentPart> parts;
  size_t markers = 0, start = 0;
  for (size_t at = prompt.find(marker); at != std::string::npos; at = prompt.find(marker, start)) {
    if (at > start) parts.push_back({ContentPart::Kind::kText, prompt.substr(start, at - start)});
    parts.push_back({ContentPart::Kind::kImage, ""});
    ++markers;
    start = at + marker.size();
  }
  if (start < prompt.size()) parts.push_back({ContentPart::Kind::kText, prompt.substr(start)});
  if (markers == 0) {
    parts.insert(parts.begin(), images, ContentPart{ContentPart::Kind::kImage, ""});
    return parts;
  }
  if (markers != images) {
    throw UsageError("the prompt places " + std::to_string(markers) + " image(s) with " + marker + " but " +
                     std::to_string(images) + " --image given");
  }
  return parts;
}

std::vector<uint32_t> SoftTokenCounts(std::span<const image::PreprocessedImage> images) {
  std::vector<uint32_t> counts;
  for (const image::PreprocessedImage& im : images) counts.push_back(im.soft_tokens);
  return counts;
}

}  // namespace vkg::cli
