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
#include <random>
#include <span>
#include <string>

#include "host/text/chat_template.h"
#include "host/runtime/generate.h"
#include "host/text/generation_config.h"
#include "host/error.h"
#include "tokenizer/tokenizer.h"
#include "tools/cli/commands.h"
#include "host/text/gguf_tokenizer.h"
#include "tools/cli/options.h"

namespace vkg::cli {
namespace {

constexpr const char* kUsage =
    "usage: vkgemma chat -m DIR [options]\n"
    "A conversation with the model: type a message, read the reply. Commands: /reset (forget the\n"
    "conversation), /exit (or end of input). Ctrl-C stops the reply being written; Ctrl-C twice at\n"
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
    "  --stats             after each reply, print to stderr: new/reused prompt tokens, generated\n"
    "                      tokens, speeds, time to first token\n";

std::atomic<bool> g_cancel{false};     // stop the reply being generated
std::atomic<int> g_interrupts{0};      // SIGINTs seen

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

}  // namespace

int Chat(const std::vector<std::string>& args) {
  std::string model_dir, system;
  bool think = false, show_stats = false;
  uint32_t n_predict = 0;
  SamplingFlags sampling;
  EngineOptions options;
  OptionParser parser("chat");
  AddEngineOptions(parser, &model_dir, &options);
  parser.Value({"-n", "--n-predict"}, [&](const std::string& v) { n_predict = ParseCount("-n", v, 1); })
      .Value({"--system"}, [&](const std::string& v) { system = v; })
      .Flag({"--think"}, [&] { think = true; })
      .Flag({"--stats"}, [&] { show_stats = true; });
  AddSamplingOptions(parser, &sampling);
  if (!ParseModelCommand(parser, args, kUsage, "chat", model_dir)) return 0;
  CheckModelPath(model_dir);

  GenerationConfig gen = GenerationConfig::Load(model_dir);
  for (const auto& [key, value] : sampling.overrides) gen.Override(key, value, key);
  const tok::Tokenizer tokenizer = LoadModelTokenizer(model_dir);
  const ChatTemplate tmpl = ChatTemplate::Load(model_dir);
  uint64_t seed = sampling.seed;
  if (!sampling.have_seed) seed = (uint64_t(std::random_device{}()) << 32) ^ std::random_device{}();
  auto engine = OpenEngineWithProgress(model_dir, options);

  const bool interactive = ::isatty(STDIN_FILENO) != 0;
  GenerateOptions go;
  go.sampling = SamplingParams::FromConfig(gen, seed);
  go.max_tokens = n_predict;
  go.stop_ids = StopTokenIds(tokenizer, gen);
  go.cancel = &g_cancel;
  ChatOptions chat_options;
  chat_options.enable_thinking = think;

  std::vector<ChatMessage> history;
  if (!system.empty()) history.push_back({"system", system});
  const size_t base = history.size();
  std::vector<int32_t> evaluated;  // the tokens the engine holds, in order
  LineReader reader;
  bool interrupted_at_prompt = false;
  uint64_t turn = 0;
  if (interactive) std::fputs("(chat: /reset starts over, /exit or Ctrl-D quits, Ctrl-C stops a reply)\n", stderr);

  for (;;) {
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
      if (interrupted_at_prompt || !interactive) {
        if (interactive) std::fputc('\n', stdout);
        break;
      }
      interrupted_at_prompt = true;
      std::fputs("\n(Ctrl-C again or /exit to quit)\n", stderr);
      continue;
    }
    interrupted_at_prompt = false;
    if (r == ReadResult::kEof) {
      if (interactive) std::fputc('\n', stdout);
      break;
    }
    const std::string text = Trim(line);
    if (text.empty()) continue;
    if (text == "/exit" || text == "/quit") break;
    if (text == "/reset") {
      history.resize(base);
      engine->Reset();
      evaluated.clear();
      if (interactive) std::fputs("(conversation reset)\n", stderr);
      if (show_stats) std::fputs("[reset]\n", stderr);
      continue;
    }
    if (text[0] == '/' && text.find(' ') == std::string::npos) {
      std::fprintf(stderr, "unknown command '%s' (commands: /reset, /exit)\n", text.c_str());
      continue;
    }

    history.push_back({"user", text});
    const std::vector<int32_t> ids = tmpl.Encode(tokenizer, history, chat_options);
    // Keep the longest prefix the engine already holds (the template may re-render earlier turns
    // differently, e.g. without the thought channel), and evaluate only the rest.
    size_t reused = 0;
    while (reused < evaluated.size() && reused + 1 < ids.size() && evaluated[reused] == ids[reused]) ++reused;
    if (reused < evaluated.size() && !engine->Truncate(uint32_t(reused))) reused = 0;
    if (reused == 0 && engine->n_past() > 0) engine->Reset();
    evaluated.resize(reused);
    const std::span<const int32_t> fresh(ids.data() + reused, ids.size() - reused);
    go.history = std::span<const int32_t>(evaluated);
    go.sampling.seed = seed + turn++;
    g_cancel.store(false);

    tok::StreamDecoder decoder(tokenizer);
    std::vector<int32_t> reply;
    GenerateStats stats;
    try {
      stats = Generate(*engine, fresh, go, [&](int32_t id) {
        if (std::find(go.stop_ids.begin(), go.stop_ids.end(), id) != go.stop_ids.end()) return;
        reply.push_back(id);
        const std::string s = decoder.Push(id);
        std::fwrite(s.data(), 1, s.size(), stdout);
        std::fflush(stdout);
      });
    } catch (const Error& e) {
      // The conversation no longer fits (checked before anything is evaluated): drop the message.
      history.pop_back();
      std::fprintf(stderr, "error: %s\n", e.what());
      if (!interactive) return 1;
      continue;
    }
    const std::string rest = decoder.Finish();
    std::fwrite(rest.data(), 1, rest.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);

    evaluated.insert(evaluated.end(), fresh.begin(), fresh.end());
    for (size_t i = 0; evaluated.size() < engine->n_past() && i < stats.tokens.size(); ++i) {
      evaluated.push_back(stats.tokens[i]);
    }
    if (evaluated.size() != engine->n_past()) {  // cannot happen; never reuse a cache we cannot describe
      engine->Reset();
      evaluated.clear();
    }
    history.push_back({"model", tokenizer.Decode(reply)});
    if (stats.stop == StopReason::kCancelled && interactive) std::fputs("(stopped)\n", stderr);
    if (show_stats) {
      std::fprintf(stderr,
                   "[prompt: %zu new tokens, %zu reused, %.1f tokens/s | generated: %zu tokens, %.1f tokens/s | "
                   "time to first token: %.3f s | stop: %s]\n",
                   stats.prompt_tokens, reused, stats.prefill_tokens_per_s(), stats.generated_tokens,
                   stats.decode_tokens_per_s(), stats.time_to_first_token_s, StopReasonName(stats.stop));
    }
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace vkg::cli
