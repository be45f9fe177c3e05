// Text generation on an Engine: prefill the prompt, then decode one token at a time until a stop
// token, a length limit, the end of the context or a cancel request (layer: host/runtime).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "host/runtime/engine.h"
#include "host/text/sampler.h"

namespace vkg {

struct GenerationConfig;
namespace tok {
class Tokenizer;
}

// Context shift (`--context-shift`): when the context is full and generation would go on, gets the
// tokens the engine holds (history + prompt + the evaluated generated tokens, in order) and returns
// the tokens to keep, which Generate evaluates again from position 0 (after the longest prefix the
// cache still holds: Engine::Truncate) before it evaluates the token just sampled; nullopt stops
// generation with kContextFull. The kept tokens plus one must fit the context.
using ContextShift = std::function<std::optional<std::vector<int32_t>>(std::span<const int32_t> held)>;

// The usual shift: the first `keep` held tokens (the system prompt and the current turn, say) and
// the newest half of the rest, as llama.cpp's context shift keeps its n_keep and drops half of
// what follows; nullopt when fewer than 2 positions would be left past `keep` (then nothing can be
// dropped usefully). Each shift re-evaluates at most keep + (context - keep) / 2 tokens and frees
// room for (context - keep) / 2 new ones.
std::optional<std::vector<int32_t>> KeepPrefixDropOldestHalf(std::span<const int32_t> held, size_t keep,
                                                             uint32_t context);

struct GenerateOptions {
  SamplingParams sampling;
  uint32_t max_tokens = 0;                    // 0: until a stop token or the end of the context
  std::vector<int32_t> stop_ids;              // generation ends when one of these is sampled
  const std::atomic<bool>* cancel = nullptr;  // checked before each forward pass
  // Tokens the engine already holds (engine.n_past() of them, when the prompt continues a cached
  // sequence); only the repetition penalty looks at them.
  std::span<const int32_t> history;
  ContextShift context_shift;  // unset: generation stops with kContextFull when the context is full
};

enum class StopReason { kStopToken, kMaxTokens, kContextFull, kCancelled };
const char* StopReasonName(StopReason r);

struct GenerateStats {
  size_t prompt_tokens = 0;     // evaluated by this call (the new part of the prompt)
  size_t generated_tokens = 0;  // sampled, the stop token included
  std::vector<int32_t> tokens;  // the sampled ids, the stop token included
  StopReason stop = StopReason::kMaxTokens;
  double time_to_first_token_s = 0;  // from the call to the first sampled token
  double prefill_s = 0;              // prompt forward passes only
  double decode_s = 0;               // single-token forward passes only
  size_t decode_steps = 0;           // single-token forward passes
  uint32_t context_shifts = 0;       // times the context was full and ContextShift made room
  size_t shift_tokens = 0;           // tokens evaluated again by those shifts (their cost)
  double shift_s = 0;                // time spent evaluating them
  std::vector<int32_t> held;         // the tokens the engine holds on return, in order
  double prefill_tokens_per_s() const { return prefill_s > 0 ? double(prompt_tokens) / prefill_s : 0; }
  double decode_tokens_per_s() const { return decode_s > 0 ? double(decode_steps) / decode_s : 0; }
};

// Called with each sampled id as soon as it is picked (the stop token included: check
// GenerateStats or the stop set to leave it out of printed text).
using TokenCallback = std::function<void(int32_t id)>;

// Evaluates `prompt` at positions engine.n_past() .. (prefill, last position's logits only), then
// samples and evaluates one token at a time. On return the engine holds the prompt and every
// sampled token except the last one (which was never evaluated), or, after a context shift, what
// the shift kept and every token sampled since except the last (GenerateStats::held). Throws vkg::Error, before any
// evaluation, when the prompt is empty or does not fit in the context.
GenerateStats Generate(Engine& engine, std::span<const int32_t> prompt, const GenerateOptions& options,
                       const TokenCallback& on_token);

// The ids that end a reply: the config's eos list plus the tokenizer's <eos> and <turn|>.
std::vector<int32_t> StopTokenIds(const tok::Tokenizer& tokenizer, const GenerationConfig& config);

}  // namespace vkg
