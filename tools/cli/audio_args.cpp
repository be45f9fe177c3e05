// Audio input for the model commands: options, checks before the model loads, content parts
// (layer: tools).
#include "tools/cli/audio_args.h"

#include "host/error.h"
#include "tools/cli/commands.h"
#include "tools/cli/image_args.h"

namespace vkg::cli {

void AddAudioOptions(OptionParser& parser, AudioFlags* flags, const std::vector<std::string>* image_files) {
  parser.Value({"--audio"}, [flags, image_files](const std::string& v) {
    flags->files.push_back(v);
    flags->images_before.push_back(image_files ? image_files->size() : 0);
  });
}

audio::AudioTokenIds RequireAudioTower(const std::string& model_dir, const std::string& what) {
  const std::optional<audio::AudioTokenIds> ids = audio::ReadAudioTokenIds(model_dir);
  if (!ids) {
    throw Error(model_dir + " has no audio tower (no audio_config in its config.json), so it cannot take " + what);
  }
  return *ids;
}

PromptAudio LoadPromptAudio(const std::string& model_dir, const std::vector<std::string>& files,
                            const std::string& what) {
  PromptAudio a;
  a.tokens = RequireAudioTower(model_dir, what);
  for (const std::string& file : files) a.clips.push_back(LoadAudioFile(file, a.tokens.raw_frame_samples));
  return a;
}

std::vector<ContentPart> MediaPromptParts(const std::string& prompt, size_t images, const AudioFlags& audio) {
  // The media in command-line order.
  std::vector<ContentPart::Kind> media;
  size_t next_audio = 0;
  for (size_t i = 0; i <= images; ++i) {
    while (next_audio < audio.files.size() && audio.images_before[next_audio] == i) {
      media.push_back(ContentPart::Kind::kAudio);
      ++next_audio;
    }
    if (i < images) media.push_back(ContentPart::Kind::kImage);
  }
  const std::string marker = kMediaMarker;
  std::vector<ContentPart> parts;
  size_t markers = 0, start = 0;
  for (size_t at = prompt.find(marker); at != std::string::npos; at = prompt.find(marker, start)) {
    if (at > start) parts.push_back({ContentPart::Kind::kText, prompt.substr(start, at - start)});
    parts.push_back({markers < media.size() ? media[markers] : ContentPart::Kind::kImage, ""});
    ++markers;
    start = at + marker.size();
  }
  if (start < prompt.size()) parts.push_back({ContentPart::Kind::kText, prompt.substr(start)});
  if (markers == 0) {
    std::vector<ContentPart> first;
    first.insert(first.end(), images, ContentPart{ContentPart::Kind::kImage, ""});
    first.insert(first.end(), audio.files.size(), ContentPart{ContentPart::Kind::kAudio, ""});
    parts.insert(parts.begin(), first.begin(), first.end());
    return parts;
  }
  if (markers != media.size()) {
    throw UsageError("the prompt places " + std::to_string(markers) + " image(s) or clip(s) with " + marker + " but " +
                     std::to_string(images) + " --image and " + std::to_string(audio.files.size()) + " --audio given");
  }
  return parts;
}

std::vector<uint32_t> AudioSoftTokenCounts(std::span<const AudioFeatures> clips) {
  std::vector<uint32_t> counts;
  for (const AudioFeatures& c : clips) counts.push_back(uint32_t(c.soft_tokens));
  return counts;
}

}  // namespace vkg::cli
