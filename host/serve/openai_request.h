// OpenAI API requests (layer: host/serve): the JSON bodies of /v1/chat/completions and
// /v1/completions checked field by field and turned into a SequenceRequest, or an ApiError with
// the status and the OpenAI-style {"error": {"message", "type", "param", "code"}} to answer.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "host/audio/audio_input.h"
#include "host/image/image_input.h"
#include "host/model/audio_features.h"
#include "host/serve/sequence.h"
#include "host/text/chat_template.h"
#include "host/text/generation_config.h"
#include "tokenizer/tokenizer.h"

namespace vkg::serve {

struct ApiError : std::runtime_error {
  ApiError(int status, std::string message, std::string type, std::string code, std::string param = "")
      : std::runtime_error(message),
        status(status),
        type(std::move(type)),
        code(std::move(code)),
        param(std::move(param)) {}
  int status;         // 400, 401, 404, 413, 503...
  std::string type;   // invalid_request_error, authentication_error, server_error...
  std::string code;   // machine-readable: invalid_json, unknown_parameter, model_not_found...
  std::string param;  // the offending field, if one
};
// {"error": {"message", "type", "param" (or null), "code"}}
std::string ErrorBody(const ApiError& e);

// What requests are checked against: the served model.
struct ServedModel {
  std::string id;        // the name clients pass as "model" (the checkpoint directory's)
  uint32_t context = 0;  // positions per sequence
  const tok::Tokenizer* tokenizer = nullptr;
  const ChatTemplate* chat_template = nullptr;
  GenerationConfig generation;    // sampling defaults
  std::vector<int32_t> stop_ids;  // StopTokenIds
  // Image input: the checkpoint's image token ids when the server runs its vision tower; unset,
  // image_url parts are refused (400) with no_images_reason. image_budget: soft tokens per image.
  std::optional<image::ImageTokenIds> image_tokens;
  std::string no_images_reason = "the served model takes no images (it has no vision tower)";
  uint32_t image_budget = image::kDefaultSoftTokenBudget;
  // Soft tokens per image at most (0: any): models whose image tokens attend to each other read
  // an image in one prompt chunk, so it must fit the server's chunk (400 past it).
  uint32_t max_image_tokens = 0;
  // Audio input (input_audio parts): the checkpoint's audio token ids (BOA, audio, EOA) when the
  // server runs its audio tower; unset, well-formed audio parts are refused (400
  // audio_not_supported) with no_audio_reason.
  std::optional<audio::AudioTokenIds> audio_tokens;
  std::string no_audio_reason = "the served model takes no audio (it has no audio tower)";
};

// Inline images (data: URLs): per image at most kMaxImageBytes decoded bytes (413 past it) and
// kMaxImagePixels pixels (below the CLI's limit: a server decodes for many clients at once), and
// at most kMaxImagesPerRequest images.
constexpr size_t kMaxImageBytes = size_t(20) << 20;
constexpr uint64_t kMaxImagePixels = 50'000'000;
constexpr size_t kMaxImagesPerRequest = 16;
// Inline audio (input_audio parts: base64 WAV, MP3 or FLAC): per clip at most kMaxAudioBytes
// decoded bytes (413 past it; 30 s of 48 kHz stereo float WAV is 11.5 MB, and the extractor keeps
// 30 s), and at most kMaxAudioClipsPerRequest clips.
constexpr size_t kMaxAudioBytes = size_t(24) << 20;
constexpr size_t kMaxAudioClipsPerRequest = 8;

// One input_audio part, decoded (host/audio: the format is read from the bytes; `format` is what
// the client said).
struct AudioClip {
  std::string format;  // "wav", "mp3" or "flac"
  AudioFeatures features;
};

enum class Endpoint { kChatCompletions, kCompletions };

struct ParsedRequest {
  Endpoint endpoint = Endpoint::kChatCompletions;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage: a last chunk with the usage
  SequenceRequest sequence;
  // The messages' images in prompt order, preprocessed, and where their soft tokens sit in
  // sequence.prompt (empty without images).
  std::vector<image::PreprocessedImage> images;
  std::vector<image::ImageSpan> image_spans;
  // The messages' audio clips in prompt order, and where their soft tokens sit in sequence.prompt
  // (empty without them). Their features are moved into sequence.audio (a SequenceAudio each).
  std::vector<AudioClip> audio;
  std::vector<audio::AudioSpan> audio_spans;
  // Fields no API this server follows defines: accepted and ignored, as llama-server and vLLM do,
  // and named in the reply's X-Vkgemma-Ignored-Fields header and the log.
  std::vector<std::string> ignored_fields;
};

// Parses and checks a request body; throws ApiError (4xx) for anything wrong with it: malformed
// JSON, a known field of the wrong type or out of range (or at a value this server cannot serve:
// n > 1, logprobs, tools ...), an unknown model, a prompt that does not fit the context,
// max_tokens past it. Fields known: OpenAI's, and llama-server's / vLLM's extras (top_k, min_p,
// repeat_penalty / repetition_penalty, ignore_eos, n_predict, cache_prompt).
ParsedRequest ParseRequest(Endpoint endpoint, std::string_view body, const ServedModel& model);

}  // namespace vkg::serve
