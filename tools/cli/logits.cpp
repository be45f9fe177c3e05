// `vkgemma logits`: evaluates token ids as one prompt and writes every position's logits. The
// interface outside checks use to compare vkgemma with other implementations: keep it stable.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>

#include "host/error.h"
#include "host/model/checkpoint.h"
#include "tools/cli/audio_args.h"
#include "tools/cli/commands.h"
#include "tools/cli/image_args.h"
#include "tools/cli/options.h"

namespace vkg::cli {
namespace {

constexpr const char* kUsage =
    "usage: vkgemma logits --model DIR --tokens ID,ID,... [--device cpu|N|NAME] [--weights F]\n"
    "                      [--out FILE] [--ctx N] [--batch N] [--kv f16|f32]\n"
    "                      [--image FILE ...] [--image-tokens N] [--mmproj FILE] [--audio FILE ...]\n"
    "Evaluates the tokens as one prompt from position 0. With --out, writes all positions' logits to\n"
    "FILE as float32 little-endian, row-major [n_tokens][vocab]. Prints the last position's top 5 as\n"
    "one JSON line {\"top\":[[id,logit],...]}. The KV cache defaults to f32 here (exactness first).\n"
    "With --image, the token list holds each image as Hugging Face's processor writes it (BOI, one\n"
    "image_token_id per soft token, EOI; ids from config.json): the images fill the runs of image\n"
    "tokens in order, and each run's length must be that image's soft-token count. A GGUF model\n"
    "takes images with --mmproj FILE, llama.cpp's vision projector GGUF (ids from its vocabulary).\n"
    "--audio likewise: BOA, one audio_token_id per soft token (one per 40 ms of the clip's first\n"
    "30 s), EOA.\n";

std::vector<int32_t> ParseTokens(const std::string& text) {
  std::vector<int32_t> ids;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || errno == ERANGE || v < 0 || v > 0x7fffffff) {
      throw UsageError("--tokens needs comma-separated token ids, got '" + item + "'");
    }
    ids.push_back(int32_t(v));
  }
  if (ids.empty()) throw UsageError("--tokens needs at least one token id");
  return ids;
}

}  // namespace

int Logits(const std::vector<std::string>& args) {
  std::string model_dir, tokens_arg, out_path;
  EngineOptions options;
  options.kv_dtype = DType::F32;
  OptionParser parser("logits");
  AddEngineOptions(parser, &model_dir, &options);
  ImageFlags image_flags;
  parser.Value({"--tokens"}, [&](const std::string& v) { tokens_arg = v; })
      .Value({"--out", "-o"}, [&](const std::string& v) { out_path = v; });
  AddImageOptions(parser, &image_flags);
  AudioFlags audio_flags;
  AddAudioOptions(parser, &audio_flags, &image_flags.files);
  if (!ParseModelCommand(parser, args, kUsage, "logits", model_dir)) return 0;
  if (tokens_arg.empty()) throw UsageError("logits needs --tokens ID,ID,...");
  const std::vector<int32_t> tokens = ParseTokens(tokens_arg);
  if (image_flags.budget && image_flags.files.empty()) throw UsageError("--image-tokens needs --image FILE");

  // Images before the output file and the load: the checkpoint must have a vision tower, the files
  // must decode, and the token list must hold one run of image tokens per image, of its length.
  PromptImages images;
  if (!image_flags.files.empty()) {
    CheckModelPath(model_dir);
    images.tokens = RequireVisionTower(model_dir, options.mmproj, "--image");
    images.budget = ImageBudget(model_dir, image_flags);
    for (const std::string& file : image_flags.files)
      images.images.push_back(image::LoadAndPreprocess(file, images.budget));
    images.spans = image::FindImageSpans(tokens, images.tokens.image, images.images);
  }
  // Clips likewise: an audio tower, the files decoded, one run of audio tokens per clip.
  PromptAudio audio;
  if (!audio_flags.files.empty()) {
    CheckModelPath(model_dir);
    audio = LoadPromptAudio(model_dir, audio_flags.files, "--audio");
    audio.spans = audio::FindAudioSpans(tokens, audio.tokens.audio, audio.clips);
  }

  // Open the output before the (slow) model load, so a bad path fails fast.
  std::ofstream out;
  if (!out_path.empty()) {
    out.open(out_path, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write " + out_path + ": " + std::strerror(errno));
  }
  // Cheap checks before the (slow) weight upload: ids inside the vocabulary, prompt within --ctx.
  const ModelConfig config = Checkpoint::LoadConfigOf(model_dir, options.mmproj);
  for (int32_t id : tokens) {
    if (id >= config.vocab_size) {
      throw Error("token id " + std::to_string(id) + " is outside the vocabulary of " +
                  std::to_string(config.vocab_size));
    }
  }
  if (options.context && tokens.size() > options.context) {
    throw Error("the prompt needs " + std::to_string(tokens.size()) + " positions but the context holds " +
                std::to_string(options.context) + " (raise --ctx)");
  }
  auto engine = OpenEngineWithProgress(model_dir, options);
  if (!images.images.empty()) AttachImages(*engine, tokens, images);
  if (!audio.clips.empty()) AttachAudio(*engine, tokens, audio);
  const size_t V = size_t(engine->config().vocab_size);
  const std::vector<float> logits = engine->Forward(tokens, /*all_logits=*/true);
  if (out.is_open()) {
    out.write(reinterpret_cast<const char*>(logits.data()), std::streamsize(logits.size() * sizeof(float)));
    out.close();
    if (!out) throw Error("writing " + out_path + " failed");
  }
  // Top 5 of the last position, highest first (ties: lower id).
  const float* last = logits.data() + (tokens.size() - 1) * V;
  std::vector<int32_t> order(V);
  std::iota(order.begin(), order.end(), 0);
  const size_t k = std::min<size_t>(5, V);
  std::partial_sort(order.begin(), order.begin() + std::ptrdiff_t(k), order.end(),
                    [&](int32_t a, int32_t b) { return last[a] > last[b] || (last[a] == last[b] && a < b); });
  nlohmann::json top = nlohmann::json::array();
  for (size_t i = 0; i < k; ++i) top.push_back({order[i], last[order[i]]});
  std::printf("%s\n", nlohmann::json{{"top", top}}.dump().c_str());
  return 0;
}

}  // namespace vkg::cli
