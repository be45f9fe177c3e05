// vkg_make_checkpoint: writes a seeded random-weight Gemma 4 checkpoint in the exact released
// layout, for every variant at any size (layer: tools/make_checkpoint). Tests use it to make
// models and bad files; exit 0 ok, 1 error, 2 bad usage.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>

#include "host/error.h"
#include "host/formats/dtype.h"
#include "host/model/checkpoint.h"
#include "host/model/config.h"
#include "tools/make_checkpoint/gguf_export.h"
#include "tools/make_checkpoint/options.h"
#include "tools/make_checkpoint/writer.h"

namespace {

using vkg::mkckpt::Options;

const char kUsage[] =
    "usage: vkg_make_checkpoint --out DIR [options]\n"
    "       vkg_make_checkpoint --from DIR --gguf FILE [--mmproj FILE] [--gguf-type T]\n"
    "Writes config.json and safetensors (bf16 unless --dtype) with seeded random weights, laid\n"
    "out like the released Gemma 4 checkpoints (nested text_config, model.language_model.* names,\n"
    "tied embedding not stored); with --gguf, the same model as a GGUF file too.\n"
    "\n"
    "  --out DIR               output directory (created if missing)\n"
    "  --variant NAME          dense (31B-like, K=V full layers) | ple (E2B-like: PLE, KV sharing,\n"
    "                          double-wide MLP) | e4b | moe (26B-A4B-like) | unified (12B)  [dense]\n"
    "  --seed N                random seed [1]\n"
    "  --shards N              write N shards + model.safetensors.index.json [1]\n"
    "  --text-only             flat gemma4_text config, model.* tensor names\n"
    "  --untied                store lm_head.weight, tie_word_embeddings false\n"
    "  --dtype D               storage dtype of every tensor: bf16, f16 or f32 [bf16]\n"
    "  --dtype-of PART=D       tensors whose name contains PART in dtype D (repeatable; the last\n"
    "                          matching one wins), e.g. --dtype-of norm=f32 for a mixed checkpoint\n"
    "  --force                 overwrite an existing checkpoint in DIR\n"
    "  --gguf FILE             also write the same model as GGUF (llama.cpp's gemma4 conventions)\n"
    "  --gguf-type T           its linear weights in f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_k,\n"
    "                          q3_k, q4_k, q5_k, q6_k, or q4_k_m / q5_k_m (Q6_K embedding, attn_v,\n"
    "                          ffn_down of even layers) [f32]\n"
    "  --tokenizer FILE        store this tokenizer.json's vocabulary in the GGUF (tokenizer.ggml.*)\n"
    "  --chat-template FILE    store this Jinja file as tokenizer.chat_template in the GGUF\n"
    "  --mmproj FILE           also write the vision tower as llama.cpp's projector GGUF (gemma4v),\n"
    "                          its matrices in f32, or in f16 / bf16 when --gguf-type says so\n"
    "  --from DIR              convert this existing checkpoint (e.g. with a vision tower) instead\n"
    "                          of generating one: writes only --gguf and --mmproj\n"
    "sizes (defaults are tiny; '-' = per variant):\n"
    "  --vocab N [256]  --hidden N [64]  --intermediate N [256]  --heads N [4]\n"
    "  --head-dim N [16]  --global-head-dim N [32]  --layers N [-]  --kv-heads N [-]\n"
    "  --global-kv-heads N [-] (0 = null)  --full-every N [-] (every Nth layer is full)\n"
    "  --kv-shared N [-]  --window N [8]  --ple-dim N [16]  --experts N [8]  --top-k N [2]\n"
    "  --moe-intermediate N [32]  --max-pos N [4096]  --softcap X [30] (<= 0: none)\n"
    "  --help                  this text\n";

// The dtypes a safetensors checkpoint stores weights in.
bool ParseStorageDType(const std::string& s, vkg::DType* out) {
  return vkg::ParseDType(s, out) && (*out == vkg::DType::BF16 || *out == vkg::DType::F16 || *out == vkg::DType::F32);
}

int Usage(const std::string& why) {
  std::fprintf(stderr, "vkg_make_checkpoint: %s\n%s", why.c_str(), kUsage);
  return 2;
}

// What the command line asks for besides the checkpoint's Options: the GGUF export.
struct ExportArgs {
  vkg::mkckpt::GgufExportOptions gguf;
  std::string chat_template_path;  // --chat-template: a file whose text the GGUF file carries
  std::string from;                // --from: convert this checkpoint instead of generating one
  std::string mmproj;              // --mmproj: the vision tower as llama.cpp's projector GGUF
};

// Sets `arg`, a known option that takes a value, to `value` (integers through `ints`); a value
// when the program should exit with it (a usage error, already printed).
std::optional<int> SetOption(const std::string& arg, const std::string& value, Options& o, ExportArgs& x,
                             const std::map<std::string, int*>& ints) {
  try {
    size_t used = 0;
    if (arg == "--out") {
      o.out = value;
    } else if (arg == "--gguf") {
      x.gguf.out = value;
    } else if (arg == "--gguf-type") {
      std::string v = value;
      if (v == "q4_k_m" || v == "q5_k_m") {
        x.gguf.k_mix = true;
        v = v.substr(0, 4);
      }
      if (!vkg::ParseDType(v, &x.gguf.type)) {
        return Usage(
            "--gguf-type must be f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k, "
            "q4_k_m or q5_k_m, got \"" +
            value + "\"");
      }
    } else if (arg == "--from") {
      x.from = value;
    } else if (arg == "--mmproj") {
      x.mmproj = value;
    } else if (arg == "--tokenizer") {
      x.gguf.tokenizer_json = value;
    } else if (arg == "--chat-template") {
      x.chat_template_path = value;
    } else if (arg == "--variant") {
      o.variant = value;
    } else if (arg == "--seed") {
      o.seed = std::stoull(value, &used);
    } else if (arg == "--dtype") {
      if (!ParseStorageDType(value, &o.dtype)) return Usage("--dtype must be bf16, f16 or f32, got \"" + value + "\"");
    } else if (arg == "--dtype-of") {
      const size_t eq = value.rfind('=');
      vkg::DType t;
      if (eq == std::string::npos || eq == 0 || !ParseStorageDType(value.substr(eq + 1), &t)) {
        return Usage("--dtype-of needs PART=bf16|f16|f32, got \"" + value + "\"");
      }
      o.dtype_overrides.push_back({value.substr(0, eq), t});
    } else if (arg == "--softcap") {
      o.softcap = std::stof(value, &used);
    } else {
      *ints.at(arg) = std::stoi(value, &used);
    }
    if (used != 0 && used != value.size()) throw std::invalid_argument(value);
  } catch (const std::exception&) {
    return Usage("bad value \"" + value + "\" for " + arg);
  }
  return std::nullopt;
}

// Parses the command line into `o` and `x`; a value when the program should exit with it (--help:
// 0, a usage error: 2).
std::optional<int> ParseArgs(int argc, char** argv, Options& o, ExportArgs& x) {
  const std::map<std::string, int*> ints = {{"--vocab", &o.vocab},
                                            {"--hidden", &o.hidden},
                                            {"--intermediate", &o.intermediate},
                                            {"--heads", &o.heads},
                                            {"--head-dim", &o.head_dim},
                                            {"--global-head-dim", &o.global_head_dim},
                                            {"--layers", &o.layers},
                                            {"--kv-heads", &o.kv_heads},
                                            {"--global-kv-heads", &o.global_kv_heads},
                                            {"--full-every", &o.full_every},
                                            {"--kv-shared", &o.kv_shared},
                                            {"--window", &o.window},
                                            {"--ple-dim", &o.ple_dim},
                                            {"--experts", &o.experts},
                                            {"--top-k", &o.top_k},
                                            {"--moe-intermediate", &o.moe_intermediate},
                                            {"--max-pos", &o.max_pos},
                                            {"--shards", &o.shards}};
  const std::map<std::string, bool*> flags = {
      {"--text-only", &o.text_only}, {"--untied", &o.untied}, {"--force", &o.force}};

  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    bool has_value = false;
    if (const size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (auto f = flags.find(arg); f != flags.end()) {
      if (has_value) return Usage(arg + " takes no value");
      *f->second = true;
      continue;
    }
    const bool known = ints.count(arg) || arg == "--out" || arg == "--variant" || arg == "--seed" ||
                       arg == "--softcap" || arg == "--dtype" || arg == "--dtype-of" || arg == "--gguf" ||
                       arg == "--gguf-type" || arg == "--tokenizer" || arg == "--chat-template" || arg == "--from" ||
                       arg == "--mmproj";
    if (!known) return Usage("unknown option " + arg);
    if (!has_value) {
      if (i + 1 >= argc) return Usage(arg + " needs a value");
      value = argv[++i];
    }
    if (const std::optional<int> exit_code = SetOption(arg, value, o, x, ints)) return exit_code;
  }
  if (!x.from.empty()) {
    if (!o.out.empty()) return Usage("--from converts a checkpoint: it takes --gguf / --mmproj, not --out");
    if (x.gguf.out.empty() && x.mmproj.empty()) return Usage("--from needs --gguf FILE or --mmproj FILE");
    return std::nullopt;
  }
  if (o.out.empty()) return Usage("--out is required");
  return std::nullopt;
}

// The GGUF files asked for, from `ckpt`.
void Export(const vkg::Checkpoint& ckpt, ExportArgs& x) {
  if (!x.gguf.out.empty()) {
    if (!x.chat_template_path.empty()) {
      std::ifstream in(x.chat_template_path, std::ios::binary);
      if (!in) throw vkg::Error(x.chat_template_path + ": cannot open");
      std::stringstream ss;
      ss << in.rdbuf();
      x.gguf.chat_template = ss.str();
    }
    vkg::mkckpt::WriteGguf(ckpt, x.gguf);
  }
  if (!x.mmproj.empty()) {
    const vkg::DType t =
        x.gguf.type == vkg::DType::F16 || x.gguf.type == vkg::DType::BF16 ? x.gguf.type : vkg::DType::F32;
    vkg::mkckpt::WriteMmproj(ckpt, x.mmproj, t);
  }
}

// Writes the checkpoint, then the GGUF files if asked for; throws on failure.
void Write(Options& o, ExportArgs& x) {
  if (!x.from.empty()) {
    Export(vkg::Checkpoint::Load(x.from), x);
    return;
  }
  vkg::mkckpt::ApplyVariantDefaults(&o);
  const auto doc = vkg::mkckpt::MakeConfigJson(o);
  // Parse what we are about to write, so an impossible size combination fails before any file
  // is written and the tensor list comes from the same code the readers use.
  const vkg::ModelConfig config = vkg::ParseConfig(nlohmann::json::parse(doc.dump()), "config.json");
  vkg::mkckpt::WriteCheckpoint(o, doc, config);
  // From the files just written, so both hold the same (stored, rounded) values.
  if (!x.gguf.out.empty() || !x.mmproj.empty()) Export(vkg::Checkpoint::Load(o.out), x);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  ExportArgs x;
  if (const std::optional<int> exit_code = ParseArgs(argc, argv, o, x)) return *exit_code;
  try {
    Write(o, x);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
