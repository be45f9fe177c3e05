// The prompt tokens that stand for an image (layer: host/image): the special ids and the default
// budget from the checkpoint's files, and the expansion Gemma4Processor applies to each `<|image|>`
// placeholder (BOI, one image token per soft token, EOI).
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "host/error.h"
#include "host/image/image_input.h"

namespace vkg::image {
namespace {

bool IsGguf(const std::filesystem::path& p) { return p.extension() == ".gguf"; }

std::optional<nlohmann::json> ReadJson(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  try {
    return nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    throw Error(path.string() + ": invalid JSON (" + e.what() + ")");
  }
}

bool IsBudget(int64_t v) {
  for (uint32_t b : kSoftTokenBudgets) {
    if (int64_t(b) == v) return true;
  }
  return false;
}

}  // namespace

std::optional<ImageTokenIds> ReadImageTokenIds(const std::filesystem::path& model_dir) {
  if (IsGguf(model_dir)) return std::nullopt;  // the projector GGUF (--mmproj) is not read yet
  const std::filesystem::path path = model_dir / "config.json";
  const std::optional<nlohmann::json> config = ReadJson(path);
  if (!config) throw Error("cannot read " + path.string());
  if (!config->is_object() || !config->contains("vision_config") || (*config)["vision_config"].is_null()) {
    return std::nullopt;
  }
  const auto id = [&](const char* key) -> int32_t {
    const auto it = config->find(key);
    if (it == config->end() || !it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 0x7fffffff) {
      throw Error(path.string() + ": vision_config is there but \"" + key + "\" is missing or not a token id");
    }
    return int32_t(it->get<int64_t>());
  };
  ImageTokenIds ids;
  ids.boi = id("boi_token_id");
  ids.image = id("image_token_id");
  ids.eoi = id("eoi_token_id");
  return ids;
}

uint32_t DefaultSoftTokenBudget(const std::filesystem::path& model_dir) {
  if (IsGguf(model_dir)) return kDefaultSoftTokenBudget;
  // processor_config.json nests the image processor's settings; preprocessor_config.json is flat.
  // The image processor's max_soft_tokens decides the pixels, so it wins over the processor's
  // image_seq_length (a placeholder count).
  std::vector<nlohmann::json> sources;  // in order of precedence
  for (const char* file : {"processor_config.json", "preprocessor_config.json"}) {
    try {
      std::optional<nlohmann::json> j = ReadJson(model_dir / file);
      if (!j || !j->is_object()) continue;
      if (j->contains("image_processor") && (*j)["image_processor"].is_object())
        sources.push_back((*j)["image_processor"]);
      sources.push_back(std::move(*j));
    } catch (const Error&) {
      // a broken optional file leaves the default (the model loads without it)
    }
  }
  for (const char* key : {"max_soft_tokens", "image_seq_length"}) {
    for (const nlohmann::json& o : sources) {
      const auto it = o.find(key);
      if (it != o.end() && it->is_number_integer() && IsBudget(it->get<int64_t>())) return uint32_t(it->get<int64_t>());
    }
  }
  return kDefaultSoftTokenBudget;
}

uint32_t ParseSoftTokenBudget(const std::string& text) {
  for (uint32_t b : kSoftTokenBudgets) {
    if (text == std::to_string(b)) return b;
  }
  throw Error("--image-tokens must be one of 70, 140, 280, 560, 1120; got '" + text + "'");
}

std::vector<int32_t> ExpandImagePlaceholders(std::span<const int32_t> ids, const ImageTokenIds& tokens,
                                             std::span<const uint32_t> soft_tokens) {
  std::vector<int32_t> out;
  size_t next = 0;
  for (int32_t id : ids) {
    if (id != tokens.image) {
      out.push_back(id);
      continue;
    }
    if (next >= soft_tokens.size()) break;  // counted below
    out.push_back(tokens.boi);
    out.insert(out.end(), soft_tokens[next], tokens.image);
    out.push_back(tokens.eoi);
    ++next;
  }
  size_t placeholders = 0;
  for (int32_t id : ids) placeholders += id == tokens.image;
  if (placeholders != soft_tokens.size()) {
    throw Error("the prompt has " + std::to_string(placeholders) + " image place(s) but " +
                std::to_string(soft_tokens.size()) + " image(s) were given");
  }
  return out;
}

std::vector<ImageSpan> FindImageSpans(std::span<const int32_t> ids, int32_t image_token_id,
                                      std::span<const PreprocessedImage> images) {
  std::vector<ImageSpan> spans;
  for (size_t i = 0; i < ids.size();) {
    if (ids[i] != image_token_id) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < ids.size() && ids[end] == image_token_id) ++end;
    spans.push_back({i, uint32_t(end - i)});
    i = end;
  }
  if (spans.size() != images.size()) {
    throw Error("the tokens hold " + std::to_string(spans.size()) + " run(s) of image token " +
                std::to_string(image_token_id) + " but " + std::to_string(images.size()) + " image(s) were given");
  }
  for (size_t k = 0; k < spans.size(); ++k) {
    if (spans[k].length != images[k].soft_tokens) {
      throw Error("image " + std::to_string(k + 1) + " has " + std::to_string(images[k].soft_tokens) +
                  " soft tokens but its run of image tokens at position " + std::to_string(spans[k].first) + " has " +
                  std::to_string(spans[k].length));
    }
  }
  return spans;
}

}  // namespace vkg::image
