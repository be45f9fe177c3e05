// Prefill + decode loop (layer: host/runtime).
#include "host/runtime/generate.h"

#include <algorithm>
#include <chrono>

#include "host/error.h"
#include "host/text/generation_config.h"
#include "tokenizer/tokenizer.h"

namespace vkg {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

}  // namespace

const char* StopReasonName(StopReason r) {
  switch (r) {
    case StopReason::kStopToken: return "stop token";
    case StopReason::kMaxTokens: return "token limit";
    case StopReason::kContextFull: return "context full";
    case StopReason::kCancelled: return "cancelled";
  }
  return "?";
}

GenerateStats Generate(Engine& engine, std::span<const int32_t> prompt, const GenerateOptions& options,
                       const TokenCallback& on_token) {
  const uint32_t context = engine.memory().context;
  const uint64_t past = engine.n_past();
  if (prompt.empty()) throw Error("the prompt is empty");
  if (past + prompt.size() > context) {
    if (past == 0) {
      throw Error("the prompt has " + std::to_string(prompt.size()) + " tokens but the context holds " +
                  std::to_string(context) + " (raise --ctx)");
    }
    throw Error("the conversation has " + std::to_string(past + prompt.size()) + " tokens but the context holds " +
                std::to_string(context) + " (raise --ctx)");
  }
  const int64_t vocab = engine.config().vocab_size;
  auto cancelled = [&] { return options.cancel && options.cancel->load(std::memory_order_relaxed); };

  GenerateStats stats;
  Sampler sampler(options.sampling);
  sampler.Accept(options.history);
  sampler.Accept(prompt);

  const auto start = Clock::now();
  if (cancelled()) {
    stats.stop = StopReason::kCancelled;
    return stats;
  }
  std::vector<float> logits = engine.Forward(prompt, /*all_logits=*/false);
  stats.prefill_s = Seconds(start, Clock::now());
  stats.prompt_tokens = prompt.size();

  for (;;) {
    if (int64_t(logits.size()) < vocab) throw Error("the engine returned too few logits");
    const int32_t id = sampler.Sample(std::span<const float>(logits.data(), size_t(vocab)));
    if (stats.tokens.empty()) stats.time_to_first_token_s = Seconds(start, Clock::now());
    stats.tokens.push_back(id);
    sampler.AcceptGenerated(id);
    if (on_token) on_token(id);
    if (std::find(options.stop_ids.begin(), options.stop_ids.end(), id) != options.stop_ids.end()) {
      stats.stop = StopReason::kStopToken;
      break;
    }
    if (options.max_tokens && stats.tokens.size() >= options.max_tokens) {
      stats.stop = StopReason::kMaxTokens;
      break;
    }
    if (engine.n_past() >= context) {
      stats.stop = StopReason::kContextFull;
      break;
    }
    if (cancelled()) {
      stats.stop = StopReason::kCancelled;
      break;
    }
    const int32_t one[1] = {id};
    const auto t0 = Clock::now();
    logits = engine.Forward(one, /*all_logits=*/false);
    stats.decode_s += Seconds(t0, Clock::now());
    ++stats.decode_steps;
  }
  stats.generated_tokens = stats.tokens.size();
  return stats;
}

std::vector<int32_t> StopTokenIds(const tok::Tokenizer& tokenizer, const GenerationConfig& config) {
  std::vector<int32_t> ids = config.eos_token_ids;
  for (const char* piece : {"<eos>", "<turn|>"}) {
    if (auto id = tokenizer.PieceToId(piece)) ids.push_back(*id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace vkg
