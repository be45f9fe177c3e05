// `vkgemma chat`: an interactive multi-turn conversation (layer: tools). Each turn re-renders the
// whole conversation with the checkpoint's chat template; when the tokens already in the engine
// are a prefix of the new prompt only the rest is evaluated; otherwise the engine keeps the longest
// shared prefix (Engine::Truncate) or starts over.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>
#include <span>
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
#include "vk/buffer.h"

namespace vkg::cli {
namespace {

constexpr const char* kUsage =
    "usage: vkgemma chat -m DIR [options]\n"
    "A conversation with the model: type a message, read the reply. Commands: /image FILE (attach\n"
    "an image to the next message; repeat for several), /audio FILE (attach a recording: WAV, FLAC,\n"
    "MP3; the model hears its first 30 s), /reset (forget the conversation), /exit (or\n"
    "end of input). Ctrl-C stops the reply being written; Ctrl-C twice at\n"
    "the prompt quits. With stdin not a terminal, reads one message per line until EOF and prints\n"
    "only the replies (one per line). Sampling defaults come from generation_config.json. Messages\n"
    "are text: special tokens typed in them (<bos>, <|turn>) stay text, never control tokens.\n"
    "  -n, --n-predict N   at most N tokens per reply (default: until <turn|>/<eos> or a full context)\n"
    "  --temp T            temperature; 0 = greedy (T > 0 turns sampling on)\n"
    "  --top-k K           keep the K most likely tokens (0 = off)\n"
    "  --top-p P           keep the smallest set of tokens whose probability reaches P (1 = off)\n"
    "  --min-p P           drop tokens less likely than P times the most likely one (0 = off)\n"
    "  --repeat-penalty R  Hugging Face repetition penalty over the conversation (1 = off)\n"
    "  --seed S            random seed (default: a random one)\n"
    "  --system TEXT       a system message at the start of the conversation\n"
    "  --think             turn on Gemma 4's thinking mode\n"
    "  --ignore-eos        go on past <eos>/<turn|> (to -n N tokens or the end of the context)\n"
    "  --context-shift     when the conversation fills the context, drop the oldest turns (the system\n"
    "                      message and the current turn stay; then the oldest half of a long reply)\n"
    "                      and evaluate what is kept again; default: the reply stops ('stopped:\n"
    "                      context full') and a message that does not fit is refused\n"
    "  --stats             after each reply, print to stderr: new/reused prompt tokens, generated\n"
    "                      tokens, speeds, time to first token, the device memory held (Vulkan\n"
    "                      allocations and bytes), the finish reason\n"
    "  --image FILE        attach an image to the first message (as /image FILE does)\n"
    "  --image-tokens N    soft tokens per image: 70, 140, 280, 560 or 1120 (default: the\n"
    "                      checkpoint's processor config, else 280)\n"
    "  --audio FILE        attach a recording to the first message (as /audio FILE does)\n";

std::atomic<bool> g_cancel{false};  // stop the reply being generated
std::atomic<int> g_interrupts{0};   // SIGINTs seen

void OnSigint(int) {
  g_cancel.store(true);
  g_interrupts.fetch_add(1);
}

// SIGINT handling: while reading a line, reads must return EINTR (no SA_RESTART) so Ctrl-C reaches
// the prompt; while generating, interrupted system calls restart (the driver never sees EINTR).
void InstallSigint(bool restart) {
  struct sigaction sa {};
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = restart ? SA_RESTART : 0;
  sigaction(SIGINT, &sa, nullptr);
}

enum class ReadResult { kLine, kEof, kInterrupted };

// Line reader on fd 0 (not std::cin: a Ctrl-C must interrupt the read).
class LineReader {
 public:
  ReadResult Read(std::string* line) {
    for (;;) {
      if (const size_t nl = buf_.find('\n'); nl != std::string::npos) {
        *line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return ReadResult::kLine;
      }
      if (eof_) {
        if (buf_.empty()) return ReadResult::kEof;
        *line = std::move(buf_);
        buf_.clear();
        return ReadResult::kLine;
      }
      char chunk[4096];
      const ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) return ReadResult::kInterrupted;
      if (n < 0) throw Error(std::string("reading stdin failed: ") + std::strerror(errno));
      if (n == 0) {
        eof_ = true;
      } else {
        buf_.append(chunk, size_t(n));
      }
    }
  }

 private:
  std::string buf_;
  bool eof_ = false;
};

std::string Trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1);
}

// What the prompt gave: a message (or command) to act on, nothing (read again), or the end.
enum class PromptInput { kText, kNothing, kQuit };

// Shows the prompt (interactive) and reads one line with Ctrl-C reaching the read: the first
// Ctrl-C at the prompt warns, a second one (or any when not interactive) quits, as does EOF.
PromptInput ReadPrompt(LineReader& reader, bool interactive, bool* interrupted_at_prompt, std::string* text) {
  if (interactive) {
    std::fputs("> ", stdout);
    std::fflush(stdout);
  }
  InstallSigint(/*restart=*/false);
  g_interrupts.store(0);
  std::string line;
  const ReadResult r = reader.Read(&line);
  InstallSigint(/*restart=*/true);
  if (r == ReadResult::kInterrupted) {
    if (*interrupted_at_prompt || !interactive) {
      if (interactive) std::fputc('\n', stdout);
      return PromptInput::kQuit;
    }
    *interrupted_at_prompt = true;
    std::fputs("\n(Ctrl-C again or /exit to quit)\n", stderr);
    return PromptInput::kNothing;
  }
  *interrupted_at_prompt = false;
  if (r == ReadResult::kEof) {
    if (interactive) std::fputc('\n', stdout);
    return PromptInput::kQuit;
  }
  *text = Trim(line);
  return text->empty() ? PromptInput::kNothing : PromptInput::kText;
}

// The conversation so far and the tokens the engine holds for it.
struct Conversation {
  std::vector<ChatMessage> history;
  size_t base = 0;                                // messages before the first turn (the system message)
  std::vector<int32_t> evaluated;                 // the tokens the engine holds, in order
  PromptImages images;                            // every image in history, in order (token ids set when it has any)
  std::vector<image::PreprocessedImage> pending;  // /image files waiting for the next message
  PromptAudio audio;                              // every clip in history, in order (token ids set when it has any)
  std::vector<AudioFeatures> pending_audio;       // /audio files waiting for the next message
};

// Keeps the longest prefix of `ids` the engine already holds (the template may re-render earlier
// turns differently, e.g. without the thought channel); returns its length (0: the engine starts over).
size_t ReuseEnginePrefix(Engine& engine, std::vector<int32_t>& evaluated, const std::vector<int32_t>& ids) {
  size_t reused = 0;
  while (reused < evaluated.size() && reused + 1 < ids.size() && evaluated[reused] == ids[reused]) ++reused;
  if (reused < evaluated.size() && !engine.Truncate(uint32_t(reused))) reused = 0;
  if (reused == 0 && engine.n_past() > 0) engine.Reset();
  evaluated.resize(reused);
  return reused;
}

// /reset: back to the system message, with an empty engine.
void ResetConversation(Conversation& conv, Engine& engine, bool interactive, bool show_stats) {
  conv.history.resize(conv.base);
  conv.images.images.clear();
  conv.pending.clear();
  conv.audio.clips.clear();
  conv.pending_audio.clear();
  engine.Reset();
  conv.evaluated.clear();
  if (interactive) std::fputs("(conversation reset)\n", stderr);
  if (show_stats) std::fputs("[reset]\n", stderr);
}

// Generates the reply after `fresh`, writing its text to stdout as it comes, then a newline; the
// reply's token ids (stop tokens left out) go to `reply`. Throws Error when the conversation no
// longer fits (before anything is evaluated or written).
GenerateStats StreamReply(Engine& engine, std::span<const int32_t> fresh, const GenerateOptions& go,
                          const tok::Tokenizer& tokenizer, std::vector<int32_t>* reply) {
  tok::StreamDecoder decoder(tokenizer);
  const GenerateStats stats = Generate(engine, fresh, go, [&](int32_t id) {
    if (std::find(go.stop_ids.begin(), go.stop_ids.end(), id) != go.stop_ids.end()) return;
    reply->push_back(id);
    const std::string s = decoder.Push(id);
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
  });
  const std::string rest = decoder.Finish();
  std::fwrite(rest.data(), 1, rest.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  return stats;
}

// ---- --context-shift ----

// Drops the oldest turn after the system message: its user message and the model's reply. False
// when only the current message is left.
bool DropOldestTurn(std::vector<ChatMessage>& history, size_t base) {
  if (history.size() <= base + 1) return false;
  history.erase(history.begin() + ptrdiff_t(base));
  while (history.size() > base + 1 && history[base].role != "user") history.erase(history.begin() + ptrdiff_t(base));
  return true;
}

// The conversation's target length after a shift: the kept part (system message and current turn,
// `keep` tokens) and half of the room beside it, as KeepPrefixDropOldestHalf leaves it.
size_t ShiftTarget(size_t keep, uint32_t context) { return keep + (context - keep - 1) / 2; }

// The system message and the current user message alone, as prompt tokens.
size_t KeptTokens(const ChatTemplate& tmpl, const tok::Tokenizer& tokenizer, const std::vector<ChatMessage>& history,
                  size_t base, const ChatOptions& options) {
  std::vector<ChatMessage> kept(history.begin(), history.begin() + ptrdiff_t(base));
  kept.push_back(history.back());
  return tmpl.Encode(tokenizer, kept, options).size();
}

// Before a turn: a conversation that leaves no room for a reply loses its oldest turns until it
// fills at most ShiftTarget. Returns its tokens; throws Error when the current message alone (with
// the system message) leaves no room.
std::vector<int32_t> FitConversation(const ChatTemplate& tmpl, const tok::Tokenizer& tokenizer,
                                     std::vector<ChatMessage>& history, size_t base, const ChatOptions& options,
                                     uint32_t context, uint32_t* dropped_turns) {
  std::vector<int32_t> ids = tmpl.Encode(tokenizer, history, options);
  if (ids.size() + 1 <= context) return ids;
  const size_t keep = KeptTokens(tmpl, tokenizer, history, base, options);
  if (keep + 2 > context) {
    throw Error("the message has " + std::to_string(keep) + " tokens with the system message but the context holds " +
                std::to_string(context) + " (raise --ctx)");
  }
  while (ids.size() > ShiftTarget(keep, context) && DropOldestTurn(history, base)) {
    ++*dropped_turns;
    ids = tmpl.Encode(tokenizer, history, options);
  }
  return ids;
}

// During a reply: Generate's ContextShift. The held tokens are the conversation's prompt (`history`
// rendered) followed by the reply so far; the oldest turns go first, then the oldest half of the
// reply. `history` ends as the conversation that was kept.
class ReplyShifter {
 public:
  ReplyShifter(const ChatTemplate& tmpl, const tok::Tokenizer& tokenizer, std::vector<ChatMessage>& history,
               size_t base, const ChatOptions& options, uint32_t context, size_t prompt_tokens)
      : tmpl_(tmpl),
        tokenizer_(tokenizer),
        history_(history),
        base_(base),
        options_(options),
        context_(context),
        reply_start_(prompt_tokens) {}

  std::optional<std::vector<int32_t>> operator()(std::span<const int32_t> held) {
    const std::span<const int32_t> reply = held.subspan(std::min(reply_start_, held.size()));
    const size_t keep = KeptTokens(tmpl_, tokenizer_, history_, base_, options_);
    if (keep + 2 > context_) return std::nullopt;
    std::vector<int32_t> prompt(held.begin(), held.begin() + ptrdiff_t(held.size() - reply.size()));
    while (prompt.size() + reply.size() > ShiftTarget(keep, context_) && DropOldestTurn(history_, base_)) {
      ++dropped_turns_;
      prompt = tmpl_.Encode(tokenizer_, history_, options_);
    }
    std::vector<int32_t> kept = prompt;
    kept.insert(kept.end(), reply.begin(), reply.end());
    if (kept.size() > ShiftTarget(keep, context_)) {
      std::optional<std::vector<int32_t>> halved = KeepPrefixDropOldestHalf(kept, prompt.size(), context_);
      if (!halved) return std::nullopt;
      kept = std::move(*halved);
      reply_cut_ = true;
    }
    reply_start_ = prompt.size();
    return kept;
  }
  // What the shifts dropped, for the line after the reply: "the oldest 2 turns and the reply's
  // oldest tokens".
  std::string Dropped() const {
    std::string s;
    if (dropped_turns_) s = "the oldest " + std::to_string(dropped_turns_) + (dropped_turns_ == 1 ? " turn" : " turns");
    if (reply_cut_) s += std::string(s.empty() ? "" : " and ") + "the reply's oldest tokens";
    return s;
  }

 private:
  const ChatTemplate& tmpl_;
  const tok::Tokenizer& tokenizer_;
  std::vector<ChatMessage>& history_;
  size_t base_;
  const ChatOptions& options_;
  uint32_t context_;
  size_t reply_start_;  // where the reply starts in the held tokens
  uint32_t dropped_turns_ = 0;
  bool reply_cut_ = false;  // KeepPrefixDropOldestHalf cut the reply
};

void PrintTurnStats(const GenerateStats& stats, size_t reused) {
  // The device memory the process holds (none on the CPU reference): flat over a long chat.
  const vk::LiveAllocations device = vk::CurrentLiveAllocations();
  std::string memory;
  if (device.memory_objects) {
    memory = " | device memory: " + std::to_string(device.memory_objects) + " allocations, " +
             std::to_string(device.memory_bytes) + " bytes";
  }
  std::fprintf(stderr,
               "[prompt: %zu new tokens, %zu reused, %.1f tokens/s | generated: %zu tokens, %.1f tokens/s | "
               "time to first token: %.3f s%s | stop: %s]\n",
               stats.prompt_tokens, reused, stats.prefill_tokens_per_s(), stats.generated_tokens,
               stats.decode_tokens_per_s(), stats.time_to_first_token_s, memory.c_str(), StopReasonName(stats.stop));
}

struct ChatArgs {
  std::string model_dir, system;
  bool think = false, show_stats = false, context_shift = false, ignore_eos = false;
  uint32_t n_predict = 0;
  SamplingFlags sampling;
  EngineOptions options;
  ImageFlags images;
  AudioFlags audio;
};

// /image FILE: decoded and preprocessed now, so a bad file is reported at once (one error line);
// it joins the next message. The checkpoint must have a vision tower.
void QueueImage(Conversation& conv, const std::string& model_dir, const std::string& mmproj, const ImageFlags& flags,
                const std::string& file, const std::string& what) {
  if (conv.images.images.empty() && conv.pending.empty()) {
    conv.images.tokens = RequireVisionTower(model_dir, mmproj, what);
    conv.images.budget = ImageBudget(model_dir, flags);
  }
  conv.pending.push_back(image::LoadAndPreprocess(file, conv.images.budget));
}

// /audio FILE: decoded to features now (one error line for a bad file); it joins the next message.
// The checkpoint must have an audio tower.
void QueueAudio(Conversation& conv, const std::string& model_dir, const std::string& file, const std::string& what) {
  if (conv.audio.clips.empty() && conv.pending_audio.empty()) conv.audio.tokens = RequireAudioTower(model_dir, what);
  AudioFeatures clip = LoadAudioFile(file, conv.audio.tokens.raw_frame_samples);
  conv.pending_audio.push_back(std::move(clip));
}

// The next user message: the pending images first, then the pending clips, then the text.
ChatMessage UserMessage(Conversation& conv, const std::string& text) {
  ChatMessage m{"user", text, {}};
  if (conv.pending.empty() && conv.pending_audio.empty()) return m;
  m.parts.assign(conv.pending.size(), ContentPart{ContentPart::Kind::kImage, ""});
  m.parts.insert(m.parts.end(), conv.pending_audio.size(), ContentPart{ContentPart::Kind::kAudio, ""});
  m.parts.push_back({ContentPart::Kind::kText, text});
  return m;
}

// The conversation as prompt ids, image and audio places expanded to their token runs.
std::vector<int32_t> EncodeConversation(const ChatTemplate& tmpl, const tok::Tokenizer& tokenizer, Conversation& conv,
                                        ChatOptions options) {
  if (conv.images.images.empty() && conv.audio.clips.empty()) return tmpl.Encode(tokenizer, conv.history, options);
  if (!conv.images.images.empty()) options.image_token_id = conv.images.tokens.image;
  if (!conv.audio.clips.empty()) options.audio_token_id = conv.audio.tokens.audio;
  std::vector<int32_t> ids = tmpl.Encode(tokenizer, conv.history, options);
  if (!conv.images.images.empty()) {
    ids = image::ExpandImagePlaceholders(ids, conv.images.tokens, SoftTokenCounts(conv.images.images));
    conv.images.spans = image::FindImageSpans(ids, conv.images.tokens.image, conv.images.images);
  }
  if (!conv.audio.clips.empty()) {
    ids = audio::ExpandAudioPlaceholders(ids, conv.audio.tokens, AudioSoftTokenCounts(conv.audio.clips));
    conv.audio.spans = audio::FindAudioSpans(ids, conv.audio.tokens.audio, conv.audio.clips);
  }
  return ids;
}

// nullopt after printing the usage (--help).
std::optional<ChatArgs> ParseChatArgs(const std::vector<std::string>& args) {
  ChatArgs a;
  OptionParser parser("chat");
  AddEngineOptions(parser, &a.model_dir, &a.options);
  parser.Value({"-n", "--n-predict"}, [&](const std::string& v) { a.n_predict = ParseCount("-n", v, 1); })
      .Value({"--system"}, [&](const std::string& v) { a.system = v; })
      .Flag({"--think"}, [&] { a.think = true; })
      .Flag({"--stats"}, [&] { a.show_stats = true; })
      .Flag({"--context-shift"}, [&] { a.context_shift = true; })
      .Flag({"--ignore-eos"}, [&] { a.ignore_eos = true; });
  AddSamplingOptions(parser, &a.sampling);
  AddImageOptions(parser, &a.images);
  AddAudioOptions(parser, &a.audio, &a.images.files);
  if (!ParseModelCommand(parser, args, kUsage, "chat", a.model_dir)) return std::nullopt;
  // A shift evaluates the kept tokens again, and images and audio cannot be attached to that pass yet.
  if (a.context_shift && (!a.images.files.empty() || !a.audio.files.empty())) {
    throw UsageError("--context-shift cannot be used with --image or --audio");
  }
  CheckModelPath(a.model_dir);
  return a;
}

}  // namespace

int Chat(const std::vector<std::string>& args) {
  const std::optional<ChatArgs> parsed = ParseChatArgs(args);
  if (!parsed) return 0;
  const std::string& model_dir = parsed->model_dir;
  const bool show_stats = parsed->show_stats;
  const SamplingFlags& sampling = parsed->sampling;

  GenerationConfig gen = GenerationConfig::Load(model_dir);
  for (const auto& [key, value] : sampling.overrides) gen.Override(key, value, key);
  const tok::Tokenizer tokenizer = LoadModelTokenizer(model_dir);
  const ChatTemplate tmpl = ChatTemplate::Load(model_dir);
  Conversation conv;
  for (const std::string& file : parsed->images.files)
    QueueImage(conv, model_dir, parsed->options.mmproj, parsed->images, file, "--image");
  for (const std::string& file : parsed->audio.files) QueueAudio(conv, model_dir, file, "--audio");
  uint64_t seed = sampling.seed;
  if (!sampling.have_seed) seed = (uint64_t(std::random_device{}()) << 32) ^ std::random_device{}();
  auto engine = OpenEngineWithProgress(model_dir, parsed->options);

  const bool interactive = ::isatty(STDIN_FILENO) != 0;
  const uint32_t context = engine->memory().context;
  GenerateOptions go;
  go.sampling = SamplingParams::FromConfig(gen, seed);
  go.max_tokens = parsed->n_predict;
  if (!parsed->ignore_eos) go.stop_ids = StopTokenIds(tokenizer, gen);
  go.cancel = &g_cancel;
  ChatOptions chat_options;
  chat_options.enable_thinking = parsed->think;

  if (!parsed->system.empty()) conv.history.push_back({"system", parsed->system});
  conv.base = conv.history.size();
  LineReader reader;
  bool interrupted_at_prompt = false;
  uint64_t turn = 0;
  if (interactive) {
    std::fputs(
        "(chat: /image FILE attaches an image, /audio FILE a recording, /reset starts over, /exit or Ctrl-D\n"
        " quits, Ctrl-C stops a reply)\n",
        stderr);
  }

  for (;;) {
    std::string text;
    const PromptInput input = ReadPrompt(reader, interactive, &interrupted_at_prompt, &text);
    if (input == PromptInput::kQuit) break;
    if (input == PromptInput::kNothing) continue;
    if (text == "/exit" || text == "/quit") break;
    if (text == "/reset") {
      ResetConversation(conv, *engine, interactive, show_stats);
      continue;
    }
    if (text.rfind("/image ", 0) == 0 || text == "/image") {
      const std::string file = Trim(text.substr(6));
      try {
        if (file.empty()) throw Error("/image needs a file: /image FILE");
        if (parsed->context_shift) throw Error("/image cannot be used with --context-shift");
        QueueImage(conv, model_dir, parsed->options.mmproj, parsed->images, file, "/image");
        if (interactive) std::fprintf(stderr, "(image %zu attached to the next message)\n", conv.pending.size());
      } catch (const Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        if (!interactive) return 1;
      }
      continue;
    }
    if (text.rfind("/audio ", 0) == 0 || text == "/audio") {
      const std::string file = Trim(text.substr(6));
      try {
        if (file.empty()) throw Error("/audio needs a file: /audio FILE");
        if (parsed->context_shift) throw Error("/audio cannot be used with --context-shift");
        QueueAudio(conv, model_dir, file, "/audio");
        if (interactive) std::fprintf(stderr, "(clip %zu attached to the next message)\n", conv.pending_audio.size());
      } catch (const Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        if (!interactive) return 1;
      }
      continue;
    }
    if (text[0] == '/' && text.find(' ') == std::string::npos) {
      std::fprintf(stderr, "unknown command '%s' (commands: /image FILE, /audio FILE, /reset, /exit)\n", text.c_str());
      continue;
    }

    conv.history.push_back(UserMessage(conv, text));
    const size_t images_before = conv.images.images.size();
    for (image::PreprocessedImage& im : conv.pending) conv.images.images.push_back(std::move(im));
    conv.pending.clear();
    const size_t clips_before = conv.audio.clips.size();
    for (AudioFeatures& clip : conv.pending_audio) conv.audio.clips.push_back(std::move(clip));
    conv.pending_audio.clear();
    std::vector<int32_t> ids;
    size_t reused = 0;
    try {
      if (parsed->context_shift) {
        uint32_t dropped = 0;
        ids = FitConversation(tmpl, tokenizer, conv.history, conv.base, chat_options, context, &dropped);
        if (dropped)
          std::fprintf(stderr, "(context full: dropped the oldest %u turn%s)\n", dropped, dropped == 1 ? "" : "s");
      } else {
        ids = EncodeConversation(tmpl, tokenizer, conv, chat_options);
        // (A first message that does not fit gets Generate's "the prompt has N tokens" line.)
        if (ids.size() >= context && conv.history.size() > conv.base + 1) {
          throw Error("the conversation has " + std::to_string(ids.size()) + " tokens but the context holds " +
                      std::to_string(context) + " (/reset, raise --ctx, or use --context-shift)");
        }
      }
      // The engine keeps the shared prefix first, so that an image the re-rendered conversation
      // moved past that point is encoded again (AttachImages takes those from n_past on).
      reused = ReuseEnginePrefix(*engine, conv.evaluated, ids);
      if (!conv.images.images.empty()) AttachImages(*engine, ids, conv.images);
      if (!conv.audio.clips.empty()) AttachAudio(*engine, ids, conv.audio);
    } catch (const Error& e) {
      conv.history.pop_back();
      conv.images.images.resize(images_before);
      conv.audio.clips.resize(clips_before);
      std::fprintf(stderr, "error: %s\n", e.what());
      if (!interactive) return 1;
      continue;
    }
    const std::span<const int32_t> fresh(ids.data() + reused, ids.size() - reused);
    go.history = std::span<const int32_t>(conv.evaluated);
    go.sampling.seed = seed + turn++;
    g_cancel.store(false);

    ReplyShifter shifter(tmpl, tokenizer, conv.history, conv.base, chat_options, context, ids.size());
    if (parsed->context_shift) go.context_shift = [&](std::span<const int32_t> held) { return shifter(held); };
    std::vector<int32_t> reply;
    GenerateStats stats;
    try {
      stats = StreamReply(*engine, fresh, go, tokenizer, &reply);
    } catch (const Error& e) {
      // The conversation no longer fits (checked before anything is evaluated): drop the message.
      conv.history.pop_back();
      conv.images.images.resize(images_before);
      conv.audio.clips.resize(clips_before);
      std::fprintf(stderr, "error: %s\n", e.what());
      if (!interactive) return 1;
      continue;
    }
    conv.evaluated = std::move(stats.held);
    if (conv.evaluated.size() != engine->n_past()) {  // cannot happen; never reuse a cache we cannot describe
      engine->Reset();
      conv.evaluated.clear();
    }
    conv.history.push_back({"model", tokenizer.Decode(reply)});
    if (stats.stop == StopReason::kCancelled && interactive) std::fputs("(stopped)\n", stderr);
    if (stats.context_shifts) {
      std::fprintf(stderr, "(context full: %u shift%s dropped %s; %zu tokens evaluated again)\n", stats.context_shifts,
                   stats.context_shifts == 1 ? "" : "s", shifter.Dropped().c_str(), stats.shift_tokens);
    }
    if (stats.stop == StopReason::kContextFull) std::fprintf(stderr, "stopped: context full (%u tokens)\n", context);
    if (show_stats) PrintTurnStats(stats, reused);
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace vkg::cli
