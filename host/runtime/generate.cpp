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

std::optional<std::vector<int32_t>> KeepPrefixDropOldestHalf(std::span<const int32_t> held, size_t keep,
                                                             uint32_t context) {
  keep = std::min(keep, held.size());
  if (keep + 2 > context) return std::nullopt;
  // The kept tokens, the sampled token evaluated after them, and as much room again for new ones.
  const size_t rest = std::min<size_t>((context - keep - 1) / 2, held.size() - keep);
  std::vector<int32_t> kept(held.begin(), held.begin() + ptrdiff_t(keep));
  kept.insert(kept.end(), held.end() - ptrdiff_t(rest), held.end());
  return kept;
}

namespace {

// Makes room after a full context: the engine keeps the longest prefix of `kept` it still holds
// (Truncate fails once a sliding-window ring has overwritten it: then it starts over) and evaluates
// the rest of `kept` and then `next`, the token just sampled. Returns the logits after `next`.
std::vector<float> ShiftContext(Engine& engine, std::vector<int32_t>& held, const std::vector<int32_t>& kept,
                                int32_t next, GenerateStats& stats) {
  const auto t0 = Clock::now();
  size_t common = 0;
  while (common < kept.size() && common < held.size() && kept[common] == held[common]) ++common;
  if (common == 0 || !engine.Truncate(uint32_t(common))) {
    engine.Reset();
    common = 0;
  }
  std::vector<int32_t> tokens(kept.begin() + ptrdiff_t(common), kept.end());
  tokens.push_back(next);
  std::vector<float> logits = engine.Forward(tokens, /*all_logits=*/false);
  held = kept;
  held.push_back(next);
  ++stats.context_shifts;
  stats.shift_tokens += tokens.size();
  stats.shift_s += Seconds(t0, Clock::now());
  return logits;
}

}  // namespace

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
  if (options.context_shift && options.history.size() != past) {
    throw Error("a context shift needs the " + std::to_string(past) + " tokens the engine holds as the history");
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
    stats.held.assign(options.history.begin(), options.history.end());
    return stats;
  }
  std::vector<float> logits = engine.Forward(prompt, /*all_logits=*/false);
  stats.prefill_s = Seconds(start, Clock::now());
  stats.prompt_tokens = prompt.size();
  // What the engine holds: the history, the prompt, then each generated token once evaluated.
  std::vector<int32_t> held(options.history.begin(), options.history.end());
  held.insert(held.end(), prompt.begin(), prompt.end());

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
    if (cancelled()) {
      stats.stop = StopReason::kCancelled;
      break;
    }
    if (engine.n_past() >= context) {
      std::optional<std::vector<int32_t>> kept;
      if (options.context_shift) kept = options.context_shift(held);
      if (!kept || kept->size() + 1 > context) {
        stats.stop = StopReason::kContextFull;
        break;
      }
      logits = ShiftContext(engine, held, *kept, id, stats);
      continue;
    }
    const int32_t one[1] = {id};
    const auto t0 = Clock::now();
    logits = engine.Forward(one, /*all_logits=*/false);
    stats.decode_s += Seconds(t0, Clock::now());
    ++stats.decode_steps;
    held.push_back(id);
  }
  stats.generated_tokens = stats.tokens.size();
  stats.held = std::move(held);
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
