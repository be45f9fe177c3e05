// vkgemma command-line entry point: dispatches subcommands (layer: tools).
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "tools/cli/commands.h"

namespace {

void PrintUsage(FILE* out) {
  std::fprintf(out,
               "usage: vkgemma <command> [options]\n"
               "commands:\n"
               "  bench      prefill/decode speed at the real Gemma 4 shapes (synthetic weights) or of a checkpoint\n"
               "  devices    list Vulkan devices and their capabilities\n"
               "  info       a checkpoint's variant, sizes and memory per weight format and context\n"
               "  logits     evaluate token ids and write every position's logits\n"
               "  run        generate a reply to one prompt, streamed to stdout\n"
               "  chat       interactive multi-turn conversation (also reads piped stdin)\n"
               "  serve      OpenAI-compatible HTTP server with continuous batching and a chat page\n"
               "  selftest   every kernel the engine runs on a device against the CPU reference\n"
               "  compare    bench --json results side by side (one column per device or run)\n"
               "  tokenize   a text's token ids (and pieces) with a checkpoint's tokenizer\n"
               "run 'vkgemma <command> --help' for a command's options\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    PrintUsage(stdout);
    return 0;
  }
  try {
    if (cmd == "bench") return vkg::cli::Bench(args);
    if (cmd == "compare") return vkg::cli::Compare(args);
    if (cmd == "devices") return vkg::cli::Devices(args);
    if (cmd == "info") return vkg::cli::Info(args);
    if (cmd == "logits") return vkg::cli::Logits(args);
    if (cmd == "run") return vkg::cli::Run(args);
    if (cmd == "chat") return vkg::cli::Chat(args);
    if (cmd == "serve") return vkg::cli::Serve(args);
    if (cmd == "selftest") return vkg::cli::Selftest(args);
    if (cmd == "tokenize") return vkg::cli::Tokenize(args);
  } catch (const vkg::cli::UsageError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    std::fprintf(stderr, "run 'vkgemma %s --help' for usage\n", cmd.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "error: unknown command '%s'\n", cmd.c_str());
  PrintUsage(stderr);
  return 2;
}
