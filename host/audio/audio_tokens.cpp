// The prompt tokens that stand for an audio clip (layer: host/audio): the special ids from the
// checkpoint's config.json and the expansion Gemma4Processor applies to each `<|audio|>`
// placeholder (BOA, one audio token per soft token, EOA).
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "host/audio/audio_input.h"
#include "host/error.h"

namespace vkg::audio {

std::optional<AudioTokenIds> ReadAudioTokenIds(const std::filesystem::path& model_dir) {
  if (model_dir.extension() == ".gguf") return std::nullopt;  // the projector GGUF is not read yet
  const std::filesystem::path path = model_dir / "config.json";
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    throw Error(path.string() + ": invalid JSON (" + e.what() + ")");
  }
  if (!config.is_object() || !config.contains("audio_config") || config["audio_config"].is_null()) {
    return std::nullopt;
  }
  const auto id = [&](std::initializer_list<const char*> keys) -> int32_t {
    for (const char* key : keys) {
      const auto it = config.find(key);
      if (it == config.end()) continue;
      if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 0x7fffffff) break;
      return int32_t(it->get<int64_t>());
    }
    throw Error(path.string() + ": audio_config is there but \"" + *keys.begin() + "\" is missing or not a token id");
  };
  AudioTokenIds ids;
  ids.boa = id({"boa_token_id"});
  ids.audio = id({"audio_token_id"});
  ids.eoa = id({"eoa_token_index", "eoa_token_id"});
  // gemma4_unified's audio_config (model_type gemma4_unified_audio, or none under a gemma4_unified
  // top level): raw frames of audio_embed_dim samples instead of log-mel features.
  const nlohmann::json& ac = config["audio_config"];
  const auto top_type = config.find("model_type");
  const bool unified_top = top_type != config.end() && *top_type == "gemma4_unified";
  const bool unified = ac.is_object() && (ac.contains("model_type") && ac["model_type"].is_string()
                                              ? ac["model_type"] == "gemma4_unified_audio"
                                              : unified_top);
  if (unified) {
    const auto dim = ac.find("audio_embed_dim");
    ids.raw_frame_samples = 640;
    if (dim != ac.end()) {
      if (!dim->is_number_integer() || dim->get<int64_t>() <= 0 || dim->get<int64_t>() > kSampleRate) {
        throw Error(path.string() + ": audio_config.audio_embed_dim is not a positive sample count");
      }
      ids.raw_frame_samples = int(dim->get<int64_t>());
    }
  }
  return ids;
}

std::vector<int32_t> ExpandAudioPlaceholders(std::span<const int32_t> ids, const AudioTokenIds& tokens,
                                             std::span<const uint32_t> soft_tokens) {
  size_t placeholders = 0;
  for (int32_t id : ids) placeholders += id == tokens.audio;
  if (placeholders != soft_tokens.size()) {
    throw Error("the prompt has " + std::to_string(placeholders) + " audio place(s) but " +
                std::to_string(soft_tokens.size()) + " audio clip(s) were given");
  }
  std::vector<int32_t> out;
  size_t next = 0;
  for (int32_t id : ids) {
    if (id != tokens.audio) {
      out.push_back(id);
      continue;
    }
    out.push_back(tokens.boa);
    out.insert(out.end(), soft_tokens[next], tokens.audio);
    out.push_back(tokens.eoa);
    ++next;
  }
  return out;
}

std::vector<AudioSpan> FindAudioSpans(std::span<const int32_t> ids, int32_t audio_token_id,
                                      std::span<const AudioFeatures> clips) {
  std::vector<AudioSpan> spans;
  for (size_t i = 0; i < ids.size();) {
    if (ids[i] != audio_token_id) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < ids.size() && ids[end] == audio_token_id) ++end;
    spans.push_back({i, uint32_t(end - i)});
    i = end;
  }
  if (spans.size() != clips.size()) {
    throw Error("the tokens hold " + std::to_string(spans.size()) + " run(s) of audio token " +
                std::to_string(audio_token_id) + " but " + std::to_string(clips.size()) + " audio clip(s) were given");
  }
  for (size_t k = 0; k < spans.size(); ++k) {
    if (int64_t(spans[k].length) != clips[k].soft_tokens) {
      throw Error("audio clip " + std::to_string(k + 1) + " has " + std::to_string(clips[k].soft_tokens) +
                  " soft tokens but its run of audio tokens at position " + std::to_string(spans[k].first) + " has " +
                  std::to_string(spans[k].length));
    }
  }
  return spans;
}

}  // namespace vkg::audio
