// Request parsing and checking for the OpenAI endpoints (layer: host/serve).
#include "host/serve/openai_request.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "host/audio/audio_input.h"
#include "host/error.h"
#include "host/image/data_url.h"
#include "host/serve/json_text.h"

namespace vkg::serve {
namespace {

using json = nlohmann::json;

ApiError BadRequest(const std::string& message, const std::string& code, const std::string& param = "") {
  return ApiError(400, message, "invalid_request_error", code, param);
}

std::string TypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::number_float: return "a number";
    default: return "an integer";
  }
}

ApiError WrongType(const std::string& field, const std::string& expected, const json& got) {
  return BadRequest("'" + field + "' must be " + expected + ", got " + TypeName(got), "invalid_type", field);
}

// A number in [lo, hi] (OpenAI's ranges); null means "not given".
bool Number(const json& body, const char* field, double lo, double hi, float* out, bool lo_open = false) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return false;
  if (!it->is_number()) throw WrongType(field, "a number", *it);
  const double v = it->get<double>();
  if (!(v >= lo && v <= hi) || (lo_open && v == lo)) {
    throw BadRequest("'" + std::string(field) + "' is " + it->dump() + ", expected a number in " +
                         (lo_open ? "(" : "[") + json(lo).dump() + ", " + json(hi).dump() + "]",
                     "invalid_value", field);
  }
  *out = float(v);
  return true;
}

bool Integer(const json& body, const char* field, int64_t lo, int64_t hi, int64_t* out) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return false;
  // 16.0 is accepted as 16 (JavaScript clients have no integers); 16.5 is not.
  if (!it->is_number()) throw WrongType(field, "an integer", *it);
  int64_t v = 0;
  if (it->is_number_float()) {
    const double d = it->get<double>();
    if (std::trunc(d) != d) throw WrongType(field, "an integer", *it);
    v = d >= 9.2e18    ? std::numeric_limits<int64_t>::max()
        : d <= -9.2e18 ? std::numeric_limits<int64_t>::min()
                       : int64_t(d);
  } else if (it->is_number_unsigned()) {
    const uint64_t u = it->get<uint64_t>();
    v = u > uint64_t(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max() : int64_t(u);
  } else {
    v = it->get<int64_t>();
  }
  if (v < lo || v > hi) {
    throw BadRequest("'" + std::string(field) + "' is " + it->dump() + ", expected an integer in [" +
                         std::to_string(lo) + ", " + std::to_string(hi) + "]",
                     "invalid_value", field);
  }
  *out = v;
  return true;
}

bool Boolean(const json& body, const char* field, bool* out) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return false;
  if (!it->is_boolean()) throw WrongType(field, "a boolean", *it);
  *out = it->get<bool>();
  return true;
}

// An image_url part's image: {"url": "data:...", "detail": ...} (or the URL as a string, as some
// clients send it), decoded and preprocessed now so a broken image is a 400 naming its field.
image::PreprocessedImage ImagePart(const json& part, const std::string& f, const ServedModel& model) {
  if (!model.image_tokens) {
    throw BadRequest("'" + f + "' is an image, but " + model.no_images_reason, "invalid_value", f + ".type");
  }
  auto iu = part.find("image_url");
  if (iu == part.end())
    throw BadRequest("'" + f + ".image_url' is required", "missing_required_parameter", f + ".image_url");
  const json* url = &*iu;
  if (iu->is_object()) {
    for (const auto& [key, value] : iu->items()) {
      if (key != "url" && key != "detail")
        throw BadRequest("unknown field '" + f + ".image_url." + key + "'", "unknown_parameter",
                         f + ".image_url." + key);
    }
    auto u = iu->find("url");
    if (u == iu->end())
      throw BadRequest("'" + f + ".image_url.url' is required", "missing_required_parameter", f + ".image_url.url");
    url = &*u;
  }
  if (!url->is_string()) throw WrongType(f + ".image_url.url", "a string", *url);
  const image::DataUrlResult data = image::DecodeDataUrl(url->get_ref<const std::string&>(), kMaxImageBytes);
  switch (data.error) {
    case image::DataUrlError::kNone: break;
    case image::DataUrlError::kTooLarge:
      throw ApiError(413, "'" + f + ".image_url.url': " + data.message, "invalid_request_error", "image_too_large",
                     f + ".image_url.url");
    case image::DataUrlError::kRemote:
      throw BadRequest("'" + f + ".image_url.url': " + data.message, "unsupported_image_url", f + ".image_url.url");
    default: throw BadRequest("'" + f + ".image_url.url': " + data.message, "invalid_image_url", f + ".image_url.url");
  }
  try {
    return image::Preprocess(image::DecodeImage(data.bytes, f, kMaxImagePixels), model.image_budget);
  } catch (const Error& e) {
    throw BadRequest(e.what(), "invalid_image", f + ".image_url.url");
  }
}

// An input_audio part: {"data": BASE64, "format": "wav" | "mp3" | "flac"}, checked (shape, format,
// base64, size) and decoded to log-mel features now, so a broken clip is a 400 naming its field;
// a well-formed clip is refused (400 audio_not_supported) when the server runs no audio tower.
AudioClip AudioPart(const json& part, const std::string& f, const ServedModel& model) {
  auto ia = part.find("input_audio");
  if (ia == part.end())
    throw BadRequest("'" + f + ".input_audio' is required", "missing_required_parameter", f + ".input_audio");
  if (!ia->is_object()) throw WrongType(f + ".input_audio", "an object", *ia);
  for (const auto& [key, value] : ia->items()) {
    if (key != "data" && key != "format")
      throw BadRequest("unknown field '" + f + ".input_audio." + key + "'", "unknown_parameter",
                       f + ".input_audio." + key);
  }
  auto format = ia->find("format");
  if (format == ia->end())
    throw BadRequest("'" + f + ".input_audio.format' is required", "missing_required_parameter",
                     f + ".input_audio.format");
  if (!format->is_string()) throw WrongType(f + ".input_audio.format", "a string", *format);
  AudioClip clip;
  clip.format = format->get<std::string>();
  if (clip.format != "wav" && clip.format != "mp3" && clip.format != "flac") {
    throw BadRequest("'" + f + ".input_audio.format' is \"" + clip.format + "\", expected \"wav\", \"mp3\" or \"flac\"",
                     "invalid_value", f + ".input_audio.format");
  }
  auto data = ia->find("data");
  if (data == ia->end())
    throw BadRequest("'" + f + ".input_audio.data' is required", "missing_required_parameter", f + ".input_audio.data");
  if (!data->is_string()) throw WrongType(f + ".input_audio.data", "a string", *data);
  const std::string field = f + ".input_audio.data";
  image::DataUrlResult bytes =
      image::DecodeBase64(data->get_ref<const std::string&>(), kMaxAudioBytes, "'" + field + "'");
  if (bytes.error == image::DataUrlError::kTooLarge) {
    throw ApiError(413, bytes.message, "invalid_request_error", "audio_too_large", field);
  }
  if (bytes.error != image::DataUrlError::kNone) throw BadRequest(bytes.message, "invalid_audio", field);
  if (bytes.bytes.empty()) throw BadRequest("'" + field + "' is empty", "invalid_audio", field);
  // Decoded now (to the tower's log-mel features), so a broken file is a 400 naming its field.
  try {
    clip.features = LoadAudioBytes(bytes.bytes, field);
  } catch (const Error& e) {
    throw BadRequest(e.what(), "invalid_audio", field);
  }
  if (!model.audio_tokens) {
    throw BadRequest("'" + f + "' is audio, but " + model.no_audio_reason, "audio_not_supported", f + ".type");
  }
  return clip;
}

// Message content: a string, or an array of parts {"type": "text", "text": ...}, {"type":
// "image_url", "image_url": {"url": "data:image/png;base64,..."}} and {"type": "input_audio", ...}.
// Text parts alone are joined into one string; with an image or a clip, the message keeps its
// parts in order and the media go to `images` and `audio`.
void Content(const json& content, const std::string& field, const ServedModel& model, ChatMessage* m,
             std::vector<image::PreprocessedImage>* images, std::vector<AudioClip>* audio) {
  if (content.is_string()) {
    m->content = content.get<std::string>();
    return;
  }
  if (!content.is_array()) throw WrongType(field, "a string or an array of content parts", content);
  std::vector<ContentPart> parts;
  bool any_media = false;
  for (size_t i = 0; i < content.size(); ++i) {
    const json& part = content[i];
    const std::string f = field + "[" + std::to_string(i) + "]";
    if (!part.is_object()) throw WrongType(f, "an object", part);
    auto type = part.find("type");
    const bool is_image = type != part.end() && *type == "image_url";
    const bool is_audio = type != part.end() && *type == "input_audio";
    if (type == part.end() || !type->is_string() || (*type != "text" && !is_image && !is_audio)) {
      throw BadRequest("'" + f + ".type' must be \"text\", \"image_url\" or \"input_audio\"", "invalid_value",
                       f + ".type");
    }
    for (const auto& [key, value] : part.items()) {
      if (key != "type" && key != (is_image ? "image_url" : is_audio ? "input_audio" : "text"))
        throw BadRequest("unknown field '" + f + "." + key + "'", "unknown_parameter", f + "." + key);
    }
    if (is_audio) {
      if (audio->size() >= kMaxAudioClipsPerRequest) {
        throw BadRequest("a request holds at most " + std::to_string(kMaxAudioClipsPerRequest) + " audio clips",
                         "too_many_audio_clips", f);
      }
      audio->push_back(AudioPart(part, f, model));
      parts.push_back({ContentPart::Kind::kAudio, ""});
      any_media = true;
      continue;
    }
    if (is_image) {
      if (images->size() >= kMaxImagesPerRequest) {
        throw BadRequest("a request holds at most " + std::to_string(kMaxImagesPerRequest) + " images",
                         "too_many_images", f);
      }
      images->push_back(ImagePart(part, f, model));
      parts.push_back({ContentPart::Kind::kImage, ""});
      any_media = true;
      continue;
    }
    auto t = part.find("text");
    if (t == part.end() || !t->is_string())
      throw BadRequest("'" + f + ".text' must be a string", "invalid_type", f + ".text");
    parts.push_back({ContentPart::Kind::kText, t->get<std::string>()});
  }
  if (any_media) {
    m->parts = std::move(parts);
    return;
  }
  for (const ContentPart& p : parts) m->content += p.text;
}

std::vector<ChatMessage> Messages(const json& body, const ServedModel& model,
                                  std::vector<image::PreprocessedImage>* images, std::vector<AudioClip>* audio) {
  auto it = body.find("messages");
  if (it == body.end()) throw BadRequest("'messages' is required", "missing_required_parameter", "messages");
  if (!it->is_array()) throw WrongType("messages", "an array", *it);
  if (it->empty()) throw BadRequest("'messages' must not be empty", "invalid_value", "messages");
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& m = (*it)[i];
    const std::string f = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) throw WrongType(f, "an object", m);
    for (const auto& [key, value] : m.items()) {
      if (key != "role" && key != "content" && key != "name") {
        throw BadRequest("unknown field '" + f + "." + key + "'", "unknown_parameter", f + "." + key);
      }
    }
    auto role = m.find("role");
    if (role == m.end()) throw BadRequest("'" + f + ".role' is required", "missing_required_parameter", f + ".role");
    if (!role->is_string()) throw WrongType(f + ".role", "a string", *role);
    std::string r = role->get<std::string>();
    if (r == "developer") r = "system";  // OpenAI's newer name for system instructions
    if (r == "assistant") r = "model";
    if (r != "system" && r != "user" && r != "model") {
      throw BadRequest(
          "'" + f + ".role' is \"" + role->get<std::string>() + "\", expected system, developer, user or assistant",
          "invalid_value", f + ".role");
    }
    auto content = m.find("content");
    if (content == m.end())
      throw BadRequest("'" + f + ".content' is required", "missing_required_parameter", f + ".content");
    if (auto name = m.find("name"); name != m.end() && !name->is_string())
      throw WrongType(f + ".name", "a string", *name);
    ChatMessage message{r, "", {}};
    Content(*content, f + ".content", model, &message, images, audio);
    out.push_back(std::move(message));
  }
  return out;
}

// /v1/completions' prompt: a string, or one prompt as OpenAI allows it: ["text"], token ids
// [1, 2, 3], or [[1, 2, 3]]. More than one prompt is refused (one request, one choice).
struct PromptField {
  std::string text;
  std::vector<int32_t> ids;  // non-empty: given as token ids
};

bool IsTokenArray(const json& v) {
  return v.is_array() && !v.empty() &&
         std::all_of(v.begin(), v.end(), [](const json& t) { return t.is_number_integer(); });
}

PromptField Prompt(const json& body, int32_t vocab) {
  auto it = body.find("prompt");
  if (it == body.end()) throw BadRequest("'prompt' is required", "missing_required_parameter", "prompt");
  PromptField out;
  if (it->is_string()) {
    out.text = it->get<std::string>();
    return out;
  }
  if (!it->is_array()) throw WrongType("prompt", "a string, an array of token ids or an array of one string", *it);
  if (it->empty()) throw BadRequest("'prompt' is an empty array", "invalid_value", "prompt");
  const json* ids = nullptr;
  if (IsTokenArray(*it)) {
    ids = &*it;
  } else if (it->size() == 1 && (*it)[0].is_string()) {
    out.text = (*it)[0].get<std::string>();
    return out;
  } else if (it->size() == 1 && IsTokenArray((*it)[0])) {
    ids = &(*it)[0];
  } else if (it->size() > 1 &&
             std::all_of(it->begin(), it->end(), [](const json& p) { return p.is_string() || p.is_array(); })) {
    throw BadRequest("'prompt' holds " + std::to_string(it->size()) + " prompts; one request serves one",
                     "invalid_value", "prompt");
  } else {
    throw WrongType("prompt", "a string, an array of token ids or an array of one string", *it);
  }
  for (const json& t : *ids) {
    const int64_t id = t.is_number_unsigned() && t.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())
                           ? std::numeric_limits<int64_t>::max()
                           : t.get<int64_t>();
    if (id < 0 || id >= vocab) {
      throw BadRequest(
          "'prompt' holds the token id " + t.dump() + ", outside the vocabulary [0, " + std::to_string(vocab) + ")",
          "invalid_value", "prompt");
    }
    out.ids.push_back(int32_t(id));
  }
  return out;
}

std::vector<std::string> StopStrings(const json& body) {
  auto it = body.find("stop");
  if (it == body.end() || it->is_null()) return {};
  if (it->is_string()) return {it->get<std::string>()};
  if (!it->is_array()) throw WrongType("stop", "a string or an array of strings", *it);
  if (it->size() > 4) throw BadRequest("'stop' holds at most 4 strings", "invalid_value", "stop");
  std::vector<std::string> out;
  for (const json& s : *it) {
    if (!s.is_string()) throw WrongType("stop", "a string or an array of strings", *it);
    if (!s.get<std::string>().empty()) out.push_back(s.get<std::string>());
  }
  return out;
}

}  // namespace

std::string ErrorBody(const ApiError& e) {
  json err = {{"message", e.what()}, {"type", e.type}, {"param", nullptr}, {"code", e.code}};
  if (!e.param.empty()) err["param"] = e.param;
  return JsonText(json{{"error", err}});
}

namespace {

// The fields this server knows: those it honours, and those it accepts only at the value that
// asks for nothing (n: 1, logprobs: false, tools: [] ...). Any other is ignored and reported.
std::vector<std::string> UnknownFields(const json& body, bool chat) {
  static const std::set<std::string> kCommon = {
      // OpenAI
      "model", "stream", "stream_options", "max_tokens", "temperature", "top_p", "seed", "stop", "presence_penalty",
      "frequency_penalty", "n", "user", "logprobs", "top_logprobs", "logit_bias", "best_of",
      // llama-server / vLLM
      "top_k", "min_p", "repeat_penalty", "repetition_penalty", "ignore_eos", "n_predict", "cache_prompt"};
  static const std::set<std::string> kChat = {
      "messages",  "max_completion_tokens", "tools",           "tool_choice",
      "functions", "function_call",         "response_format", "parallel_tool_calls"};
  std::vector<std::string> unknown;
  for (const auto& [key, value] : body.items()) {
    const bool known =
        kCommon.count(key) || (chat ? kChat.count(key) > 0 : key == "prompt" || key == "echo" || key == "suffix");
    if (!known) unknown.push_back(key);
  }
  return unknown;
}

// A known field this server cannot honour, given at a value other than "none": 400.
void RefuseUnservable(const json& body) {
  for (const char* field : {"tools", "functions", "logit_bias", "suffix"}) {
    auto it = body.find(field);
    if (it == body.end() || it->is_null() || (it->is_array() && it->empty()) || (it->is_object() && it->empty()) ||
        (it->is_string() && it->get<std::string>().empty()))
      continue;
    throw BadRequest("'" + std::string(field) + "' is not supported by this server", "unsupported_parameter", field);
  }
  for (const char* field : {"tool_choice", "function_call"}) {
    auto it = body.find(field);
    if (it != body.end() && !it->is_null() && *it != "none" && *it != "auto")
      throw BadRequest("'" + std::string(field) + "' is not supported by this server", "unsupported_parameter", field);
  }
  if (auto rf = body.find("response_format"); rf != body.end() && !rf->is_null()) {
    if (!rf->is_object() || rf->value("type", json()) != "text")
      throw BadRequest("'response_format' other than {\"type\": \"text\"} is not supported", "unsupported_parameter",
                       "response_format");
  }
  if (auto p = body.find("parallel_tool_calls"); p != body.end() && !p->is_null() && !p->is_boolean())
    throw WrongType("parallel_tool_calls", "a boolean", *p);
}

// "model" is optional, as in llama-server (there is one model); given, it must be that one.
void CheckModel(const json& body, const ServedModel& model) {
  auto m = body.find("model");
  if (m != body.end() && !m->is_null()) {
    if (!m->is_string()) throw WrongType("model", "a string", *m);
    if (m->get<std::string>() != model.id) {
      throw ApiError(404,
                     "the model '" + m->get<std::string>() + "' does not exist; this server serves '" + model.id + "'",
                     "invalid_request_error", "model_not_found", "model");
    }
  }
}

// stream and stream_options, then the fields accepted only at their one supported value (n, user,
// logprobs, echo).
void ParseStreaming(const json& body, ParsedRequest& out) {
  Boolean(body, "stream", &out.stream);
  if (auto so = body.find("stream_options"); so != body.end() && !so->is_null()) {
    if (!so->is_object()) throw WrongType("stream_options", "an object", *so);
    if (!out.stream) throw BadRequest("'stream_options' needs 'stream': true", "invalid_value", "stream_options");
    for (const auto& [key, value] : so->items()) {
      if (key != "include_usage")
        throw BadRequest("unknown field 'stream_options." + key + "'", "unknown_parameter", "stream_options." + key);
    }
    Boolean(*so, "include_usage", &out.include_usage);
  }
  int64_t n = 1;
  if (Integer(body, "n", 1, 1000000, &n) && n != 1)
    throw BadRequest("'n' must be 1: one choice per request", "invalid_value", "n");
  if (auto u = body.find("user"); u != body.end() && !u->is_null() && !u->is_string())
    throw WrongType("user", "a string", *u);
  bool flag = false;
  // logprobs: OpenAI's chat field is a boolean, its completions field (and vLLM's) a count.
  if (auto lp = body.find("logprobs"); lp != body.end() && !lp->is_null()) {
    if (!lp->is_boolean() && !lp->is_number_integer()) throw WrongType("logprobs", "a boolean or an integer", *lp);
    if ((lp->is_boolean() && lp->get<bool>()) || (lp->is_number_integer() && lp->get<int64_t>() != 0))
      throw BadRequest("'logprobs' is not supported", "invalid_value", "logprobs");
  }
  if (Integer(body, "top_logprobs", 0, 20, &n) && n != 0)
    throw BadRequest("'top_logprobs' is not supported", "invalid_value", "top_logprobs");
  if (Integer(body, "best_of", 1, 1000000, &n) && n != 1)
    throw BadRequest("'best_of' must be 1: one choice per request", "invalid_value", "best_of");
  Boolean(body, "cache_prompt", &flag);  // the prefix cache is always on (README, "Serving")
  if (Boolean(body, "echo", &flag) && flag) throw BadRequest("'echo' is not supported", "invalid_value", "echo");
}

// Sampling: the checkpoint's defaults, then the request's fields (no seed: a random one).
SamplingParams ParseSampling(const json& body, const GenerationConfig& gen) {
  SamplingParams sp = SamplingParams::FromConfig(gen, 0);
  float f = 0;
  if (Number(body, "temperature", 0.0, 2.0, &f)) sp.temperature = f, sp.do_sample = f > 0.0f;
  if (Number(body, "top_p", 0.0, 1.0, &f, /*lo_open=*/true)) sp.top_p = f;
  if (Number(body, "min_p", 0.0, 1.0, &f)) sp.min_p = f;
  if (Number(body, "repeat_penalty", 0.0, 10.0, &f, /*lo_open=*/true)) sp.repetition_penalty = f;
  if (Number(body, "repetition_penalty", 0.0, 10.0, &f, /*lo_open=*/true)) sp.repetition_penalty = f;  // vLLM's name
  Number(body, "presence_penalty", -2.0, 2.0, &sp.presence_penalty);
  Number(body, "frequency_penalty", -2.0, 2.0, &sp.frequency_penalty);
  int64_t i = 0;
  // top_k: 0 and vLLM's -1 both mean "all tokens".
  if (Integer(body, "top_k", -1, std::numeric_limits<int32_t>::max(), &i)) sp.top_k = int32_t(std::max<int64_t>(i, 0));
  if (Integer(body, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), &i)) {
    sp.seed = uint64_t(i);
  } else {
    sp.seed = (uint64_t(std::random_device{}()) << 32) ^ std::random_device{}();
  }
  return sp;
}

// The prompt as tokens: the messages through the chat template, or (completions) the prompt text.
std::vector<int32_t> PromptIds(const json& body, const ServedModel& model, bool chat, ParsedRequest* out) {
  const tok::Tokenizer& tokenizer = *model.tokenizer;
  std::vector<int32_t> ids;
  if (chat) {
    const std::vector<ChatMessage> messages = Messages(body, model, &out->images, &out->audio);
    try {
      ChatOptions options;
      if (!out->images.empty()) options.image_token_id = model.image_tokens->image;
      if (!out->audio.empty()) options.audio_token_id = model.audio_tokens->audio;
      ids = model.chat_template->Encode(tokenizer, messages, options);
      // Each <|image|> and <|audio|> becomes its medium's run (BOI/BOA, one token per soft token,
      // EOI/EOA), as Gemma4Processor and `vkgemma run` expand them.
      if (!out->images.empty()) {
        std::vector<uint32_t> counts;
        for (const image::PreprocessedImage& im : out->images) counts.push_back(im.soft_tokens);
        ids = image::ExpandImagePlaceholders(ids, *model.image_tokens, counts);
      }
      if (!out->audio.empty()) {
        std::vector<uint32_t> counts;
        std::vector<AudioFeatures> clips;
        for (const AudioClip& clip : out->audio) {
          counts.push_back(uint32_t(clip.features.soft_tokens));
          clips.push_back(clip.features);
        }
        ids = audio::ExpandAudioPlaceholders(ids, *model.audio_tokens, counts);
        out->audio_spans = audio::FindAudioSpans(ids, model.audio_tokens->audio, clips);
      }
      if (!out->images.empty()) {
        out->image_spans = image::FindImageSpans(ids, model.image_tokens->image, out->images);
      }
    } catch (const Error& e) {
      throw BadRequest(std::string("the chat template rejected the messages: ") + e.what(), "invalid_value",
                       "messages");
    }
  } else {
    // As `vkgemma run --raw`: <bos>, then the text with special tokens written in it matched.
    // Token ids are taken as given (the client chose whether to start with <bos>).
    PromptField prompt = Prompt(body, tokenizer.vocab_size());
    if (!prompt.ids.empty()) return prompt.ids;
    const int32_t bos = tokenizer.PieceToId("<bos>").value_or(model.generation.bos_token_id);
    const std::vector<int32_t> text_ids = tokenizer.Encode(prompt.text, tok::SpecialTokens::kMatch);
    if (text_ids.empty() || text_ids.front() != bos) ids.push_back(bos);
    ids.insert(ids.end(), text_ids.begin(), text_ids.end());
  }
  return ids;
}

// The prompt's length against the context, and the tokens left to generate: max_tokens (or the
// chat endpoint's newer max_completion_tokens, which wins given both), else all the room left.
uint32_t MaxTokens(const json& body, const ServedModel& model, bool chat, size_t prompt_tokens) {
  const int64_t ctx = model.context;
  if (int64_t(prompt_tokens) >= ctx) {
    throw BadRequest("the prompt has " + std::to_string(prompt_tokens) + " tokens but the context holds " +
                         std::to_string(ctx) + " (with room for at least one generated token)",
                     "context_length_exceeded", chat ? "messages" : "prompt");
  }
  const int64_t room = ctx - int64_t(prompt_tokens);
  int64_t max_tokens = room;
  const char* max_field = "max_tokens";
  bool have_max = Integer(body, "max_tokens", 1, std::numeric_limits<int32_t>::max(), &max_tokens);
  if (chat && Integer(body, "max_completion_tokens", 1, std::numeric_limits<int32_t>::max(), &max_tokens)) {
    max_field = "max_completion_tokens", have_max = true;
  }
  // llama-server's n_predict, used when no OpenAI field is given; -1: until the context is full.
  int64_t n_predict = 0;
  if (!have_max && Integer(body, "n_predict", -1, std::numeric_limits<int32_t>::max(), &n_predict)) {
    if (n_predict == 0) throw BadRequest("'n_predict' must be -1 or at least 1", "invalid_value", "n_predict");
    if (n_predict > 0) max_tokens = n_predict, max_field = "n_predict", have_max = true;
  }
  if (have_max && max_tokens > room) {
    throw BadRequest("'" + std::string(max_field) + "' is " + std::to_string(max_tokens) + " but the prompt's " +
                         std::to_string(prompt_tokens) + " tokens leave " + std::to_string(room) +
                         " of the context's " + std::to_string(ctx),
                     "context_length_exceeded", max_field);
  }
  return uint32_t(max_tokens);
}

}  // namespace

ParsedRequest ParseRequest(Endpoint endpoint, std::string_view text, const ServedModel& model) {
  const bool chat = endpoint == Endpoint::kChatCompletions;
  json body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    throw BadRequest("the request body is not valid JSON", "invalid_json");
  }
  if (!body.is_object()) throw BadRequest("the request body must be a JSON object", "invalid_json");
  ParsedRequest out;
  out.ignored_fields = UnknownFields(body, chat);
  RefuseUnservable(body);
  CheckModel(body, model);
  out.endpoint = endpoint;
  ParseStreaming(body, out);
  out.sequence.sampling = ParseSampling(body, model.generation);
  out.sequence.stop_strings = StopStrings(body);
  out.sequence.stop_ids = model.stop_ids;
  bool ignore_eos = false;  // llama-server / vLLM: generate to max_tokens, past end-of-turn
  if (Boolean(body, "ignore_eos", &ignore_eos) && ignore_eos) out.sequence.stop_ids.clear();
  out.sequence.prompt = PromptIds(body, model, chat, &out);
  for (size_t i = 0; i < out.images.size(); ++i) {
    const image::PreprocessedImage& im = out.images[i];
    if (model.max_image_tokens && im.soft_tokens > model.max_image_tokens) {
      throw BadRequest("image " + std::to_string(i + 1) + " makes " + std::to_string(im.soft_tokens) +
                           " soft tokens; this server evaluates at most " + std::to_string(model.max_image_tokens) +
                           " (its tokens attend to each other, so it is read in one prompt chunk: raise --batch)",
                       "image_too_large", "messages");
    }
    SequenceImage si;
    si.start = uint32_t(out.image_spans.at(i).first);
    si.length = out.image_spans[i].length;
    si.hash = HashImagePixels(im.patches_x, im.patches_y, im.pixels);
    si.patches =
        std::make_shared<const ImagePatches>(ImagePatches::Grid(int(im.patches_x), int(im.patches_y), im.pixels));
    out.sequence.images.push_back(std::move(si));
  }
  for (size_t i = 0; i < out.audio.size(); ++i) {
    SequenceAudio sa;
    sa.start = uint32_t(out.audio_spans.at(i).first);
    sa.length = out.audio_spans[i].length;
    sa.hash = HashAudioFeatures(out.audio[i].features);
    sa.clip = std::make_shared<const AudioFeatures>(std::move(out.audio[i].features));
    out.sequence.audio.push_back(std::move(sa));
  }
  out.sequence.max_tokens = MaxTokens(body, model, chat, out.sequence.prompt.size());
  return out;
}

}  // namespace vkg::serve
