// `vkgemma run`: one prompt in, the model's reply streamed out (layer: tools).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <optional>
#include <random>
#include <string>

#include "host/error.h"
#include "host/runtime/generate.h"
#include "host/text/chat_template.h"
#include "host/text/generation_config.h"
#include "host/text/gguf_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tools/cli/audio_args.h"
#include "tools/cli/commands.h"
#include "tools/cli/image_args.h"
#include "tools/cli/options.h"

namespace vkg::cli {
namespace {

constexpr const char* kUsage =
    "usage: vkgemma run -m DIR -p TEXT [options]\n"
    "Generates a reply to one prompt and streams it to stdout; prompt and generation speed and the\n"
    "time to the first token go to stderr at the end. Sampling defaults come from the checkpoint's\n"
    "generation_config.json (Gemma 4: temperature 1, top-k 64, top-p 0.95).\n"
    "  -p, --prompt TEXT   the prompt; '-' reads it from stdin (one trailing newline is dropped)\n"
    "  -n, --n-predict N   stop after N generated tokens (default: at <eos>/<turn|> or a full context)\n"
    "  --temp T            temperature; 0 = greedy (T > 0 turns sampling on)\n"
    "  --top-k K           keep the K most likely tokens (0 = off)\n"
    "  --top-p P           keep the smallest set of tokens whose probability reaches P (1 = off)\n"
    "  --min-p P           drop tokens less likely than P times the most likely one (0 = off)\n"
    "  --repeat-penalty R  Hugging Face repetition penalty over the prompt and reply (1 = off)\n"
    "  --seed S            random seed (default: a random one, printed with the speeds)\n"
    "  --system TEXT       a system message (chat template only)\n"
    "  --think             turn on Gemma 4's thinking mode (chat template only)\n"
    "  --raw               no chat template: <bos>, then the prompt tokenized as `vkgemma tokenize`\n"
    "                      does by default: special tokens written in it (<|turn>, <eos>) become\n"
    "                      their ids, so a prompt can carry its own turn markup (a leading <bos>\n"
    "                      is not doubled). Without --raw the prompt is a user message, and text\n"
    "                      typed in a message never becomes a special token\n"
    "  --ignore-eos        go on past <eos>/<turn|> (to -n N tokens, or the end of the context)\n"
    "  --context-shift     when the context is full, keep the prompt and the newest half of the reply,\n"
    "                      evaluate them again from position 0, and go on (default: stop, printing\n"
    "                      'stopped: context full'); the cost is printed with the speeds\n"
    "  --print-ids         also print the generated token ids (stop token included) to stderr as\n"
    "                      one line 'generated ids: ID,ID,...' (for tests and debugging)\n"
    "  --image FILE        an image for the prompt (PNG, JPEG, WebP, GIF first frame, BMP); repeat\n"
    "                      for several. Each <__media__> in the prompt places the next image;\n"
    "                      without one, the images come before the text. With --raw the prompt's\n"
    "                      own <|image|> tokens place them. Needs a checkpoint with a vision tower\n"
    "  --image-tokens N    soft tokens per image: 70, 140, 280, 560 or 1120 (default: the\n"
    "                      checkpoint's processor config, else 280; more reads small text better)\n"
    "  --audio FILE        an audio clip for the prompt (WAV, FLAC, MP3; any rate, mono or\n"
    "                      stereo; the model hears the first 30 s); repeat for several. <__media__>\n"
    "                      places images and clips in command-line order; without it they come\n"
    "                      before the text. With --raw the prompt's own <|audio|> tokens place\n"
    "                      them. Needs a checkpoint that takes audio (Gemma 4 E2B, E4B, the 12B)\n";

std::string ReadAll(std::istream& in) {
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (s.size() >= 1 && s.back() == '\n') s.pop_back();
  if (s.size() >= 1 && s.back() == '\r') s.pop_back();
  return s;
}

// A raw prompt: special tokens in the text are matched (tokenize's default), since a raw prompt is
// the caller's own markup. One <bos> in front, unless the text already starts with it.
std::vector<int32_t> RawPromptIds(const tok::Tokenizer& tokenizer, const std::string& prompt, int32_t config_bos) {
  std::vector<int32_t> ids;
  const int32_t bos = tokenizer.PieceToId("<bos>").value_or(config_bos);
  const std::vector<int32_t> text = tokenizer.Encode(prompt, tok::SpecialTokens::kMatch);
  if (text.empty() || text.front() != bos) ids.push_back(bos);
  ids.insert(ids.end(), text.begin(), text.end());
  return ids;
}

// The prompt as a user message (after the system message, if any), through the chat template; with
// images, the message is content parts and each image's place becomes its token run.
std::vector<int32_t> ChatPromptIds(const tok::Tokenizer& tokenizer, const std::string& model_dir,
                                   const std::string& system, const std::string& prompt, bool think,
                                   const PromptImages& images, const PromptAudio& audio,
                                   const AudioFlags& audio_flags) {
  const ChatTemplate tmpl = ChatTemplate::Load(model_dir);
  std::vector<ChatMessage> messages;
  if (!system.empty()) messages.push_back({"system", system});
  ChatMessage user{"user", prompt, {}};
  if (!audio.clips.empty()) {
    user.parts = MediaPromptParts(prompt, images.images.size(), audio_flags);
  } else if (!images.images.empty()) {
    user.parts = PromptParts(prompt, images.images.size());
  }
  messages.push_back(std::move(user));
  ChatOptions chat;
  chat.enable_thinking = think;
  if (images.images.empty() && audio.clips.empty()) return tmpl.Encode(tokenizer, messages, chat);
  if (!images.images.empty()) chat.image_token_id = images.tokens.image;
  if (!audio.clips.empty()) chat.audio_token_id = audio.tokens.audio;
  std::vector<int32_t> ids = tmpl.Encode(tokenizer, messages, chat);
  if (!images.images.empty()) {
    ids = image::ExpandImagePlaceholders(ids, images.tokens, SoftTokenCounts(images.images));
  }
  if (!audio.clips.empty()) {
    ids = audio::ExpandAudioPlaceholders(ids, audio.tokens, AudioSoftTokenCounts(audio.clips));
  }
  return ids;
}

// --print-ids: 'generated ids: ID,ID,...' on stderr.
void PrintGeneratedIds(const GenerateStats& stats) {
  std::string line;
  for (int32_t id : stats.tokens) {
    if (!line.empty()) line += ',';
    line += std::to_string(id);
  }
  std::fprintf(stderr, "generated ids: %s\n", line.c_str());
}

// The speeds line on stderr; `seed` when sampling (not greedy); the context shifts and their cost
// when there were any.
void PrintRunStats(const GenerateStats& stats, std::optional<uint64_t> seed) {
  std::fprintf(stderr,
               "prompt: %zu tokens, %.1f tokens/s | generated: %zu tokens, %.1f tokens/s | "
               "time to first token: %.3f s | stop: %s",
               stats.prompt_tokens, stats.prefill_tokens_per_s(), stats.generated_tokens, stats.decode_tokens_per_s(),
               stats.time_to_first_token_s, StopReasonName(stats.stop));
  if (seed) std::fprintf(stderr, " | seed %llu", static_cast<unsigned long long>(*seed));
  if (stats.context_shifts) {
    std::fprintf(stderr, " | context shifts: %u, %zu tokens evaluated again in %.3f s", stats.context_shifts,
                 stats.shift_tokens, stats.shift_s);
  }
  std::fputc('\n', stderr);
}

}  // namespace

int Run(const std::vector<std::string>& args) {
  std::string model_dir, prompt, system;
  bool have_prompt = false, think = false, raw = false, print_ids = false, ignore_eos = false, context_shift = false;
  uint32_t n_predict = 0;
  SamplingFlags sampling;
  EngineOptions options;
  OptionParser parser("run");
  AddEngineOptions(parser, &model_dir, &options);
  parser.Value({"-p", "--prompt"}, [&](const std::string& v) { prompt = v, have_prompt = true; })
      .Value({"-n", "--n-predict"}, [&](const std::string& v) { n_predict = ParseCount("-n", v, 1); })
      .Value({"--system"}, [&](const std::string& v) { system = v; })
      .Flag({"--think"}, [&] { think = true; })
      .Flag({"--raw"}, [&] { raw = true; })
      .Flag({"--print-ids"}, [&] { print_ids = true; })
      .Flag({"--ignore-eos"}, [&] { ignore_eos = true; })
      .Flag({"--context-shift"}, [&] { context_shift = true; });
  AddSamplingOptions(parser, &sampling);
  ImageFlags image_flags;
  AddImageOptions(parser, &image_flags);
  AudioFlags audio_flags;
  AddAudioOptions(parser, &audio_flags, &image_flags.files);
  if (!ParseModelCommand(parser, args, kUsage, "run", model_dir)) return 0;
  if (!have_prompt) throw UsageError("run needs --prompt TEXT (or -p - to read stdin)");
  if (raw && (think || !system.empty())) throw UsageError("--system and --think need the chat template, not --raw");
  if (image_flags.budget && image_flags.files.empty()) throw UsageError("--image-tokens needs --image FILE");
  // A shift evaluates the kept tokens again, and images and audio cannot be attached to that pass yet.
  if (context_shift && (!image_flags.files.empty() || !audio_flags.files.empty())) {
    throw UsageError("--context-shift cannot be used with --image or --audio");
  }
  CheckModelPath(model_dir);
  if (prompt == "-") prompt = ReadAll(std::cin);
  if (!audio_flags.files.empty() && !raw) {
    MediaPromptParts(prompt, image_flags.files.size(), audio_flags);  // markers vs media
  } else if (!image_flags.files.empty() && !raw) {
    PromptParts(prompt, image_flags.files.size());  // markers vs images
  }

  // Images next: the checkpoint must have a vision tower, then every file must decode.
  PromptImages images;
  if (!image_flags.files.empty()) {
    images.tokens = RequireVisionTower(model_dir, options.mmproj, "--image");
    images.budget = ImageBudget(model_dir, image_flags);
    for (const std::string& file : image_flags.files)
      images.images.push_back(image::LoadAndPreprocess(file, images.budget));
  }
  // Clips likewise: an audio tower, then every file decoded to features.
  PromptAudio audio;
  if (!audio_flags.files.empty()) audio = LoadPromptAudio(model_dir, audio_flags.files, "--audio");

  // Everything cheap first (tokenizer, template, prompt length), so mistakes fail before the load.
  GenerationConfig gen = GenerationConfig::Load(model_dir);
  for (const auto& [key, value] : sampling.overrides) gen.Override(key, value, key);
  const tok::Tokenizer tokenizer = LoadModelTokenizer(model_dir);
  std::vector<int32_t> ids =
      raw ? RawPromptIds(tokenizer, prompt, gen.bos_token_id)
          : ChatPromptIds(tokenizer, model_dir, system, prompt, think, images, audio, audio_flags);
  if (raw && !images.images.empty()) {
    ids = image::ExpandImagePlaceholders(ids, images.tokens, SoftTokenCounts(images.images));
  }
  if (raw && !audio.clips.empty()) {
    ids = audio::ExpandAudioPlaceholders(ids, audio.tokens, AudioSoftTokenCounts(audio.clips));
  }
  if (!images.images.empty()) images.spans = image::FindImageSpans(ids, images.tokens.image, images.images);
  if (!audio.clips.empty()) audio.spans = audio::FindAudioSpans(ids, audio.tokens.audio, audio.clips);
  if (options.context && ids.size() > options.context) {
    throw Error("the prompt has " + std::to_string(ids.size()) + " tokens but the context holds " +
                std::to_string(options.context) + " (raise --ctx)");
  }
  uint64_t seed = sampling.seed;
  if (!sampling.have_seed) seed = (uint64_t(std::random_device{}()) << 32) ^ std::random_device{}();

  auto engine = OpenEngineWithProgress(model_dir, options);
  if (!images.images.empty()) AttachImages(*engine, ids, images);
  if (!audio.clips.empty()) AttachAudio(*engine, ids, audio);
  GenerateOptions go;
  go.sampling = SamplingParams::FromConfig(gen, seed);
  go.max_tokens = n_predict;
  if (!ignore_eos) go.stop_ids = StopTokenIds(tokenizer, gen);
  const uint32_t context = engine->memory().context;
  if (context_shift) {
    // The prompt (system message and the user's turn) stays; the reply's oldest half goes.
    go.context_shift = [&](std::span<const int32_t> held) {
      return KeepPrefixDropOldestHalf(held, ids.size(), context);
    };
  }

  tok::StreamDecoder decoder(tokenizer);
  bool ends_with_newline = true;
  auto emit = [&](const std::string& s) {
    if (s.empty()) return;
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
    ends_with_newline = s.back() == '\n';
  };
  const GenerateStats stats = Generate(*engine, ids, go, [&](int32_t id) {
    for (int32_t stop : go.stop_ids) {
      if (id == stop) return;  // the stop token is not part of the reply
    }
    emit(decoder.Push(id));
  });
  emit(decoder.Finish());
  if (!ends_with_newline && ::isatty(STDOUT_FILENO)) std::fputc('\n', stdout);
  std::fflush(stdout);

  if (stats.stop == StopReason::kContextFull) {
    std::fprintf(stderr, "stopped: context full (%u tokens)%s\n", context,
                 context_shift ? ": the prompt alone leaves no room to shift" : "; --context-shift goes on past it");
  }
  if (print_ids) PrintGeneratedIds(stats);
  PrintRunStats(stats, go.sampling.greedy() ? std::nullopt : std::optional<uint64_t>(seed));
  return 0;
}

}  // namespace vkg::cli
