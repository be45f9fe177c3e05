// `vkgemma info`: what a checkpoint is and what it needs, from config.json and the safetensors
// headers (no weights are read; before the weights are downloaded, from config.json alone, so it
// also answers "will it fit?" before a download finishes).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "host/device/gpu_model.h"
#include "host/device/kv_cache.h"
#include "host/device/weight_source.h"
#include "host/error.h"
#include "host/model/checkpoint.h"
#include "host/model/config.h"
#include "host/model/shapes.h"
#include "host/model/tensor_names.h"
#include "host/runtime/activations.h"
#include "host/runtime/scheduler.h"
#include "tools/cli/commands.h"
#include "tools/cli/options.h"
#include "vk/device.h"
#include "vk/instance.h"

namespace vkg::cli {
namespace {

constexpr const char* kUsage =
    "usage: vkgemma info (--model DIR | --shape e2b|e4b|12b|26b-a4b|31b) [--weights F] [--ctx N]\n"
    "                    [--batch N] [--kv f16|f32] [--mmproj FILE]\n"
    "Prints the checkpoint's variant, layer layout, parameter counts, the dtype its weights are\n"
    "stored in (the default --weights) and the device memory it needs per weight format and\n"
    "context. Reads config.json and the safetensors headers, not the weights; before the weights\n"
    "are downloaded, config.json's dtype (--shape: the released configs, built in; bf16).\n"
    "A GGUF model with --mmproj (llama.cpp's vision projector file) shows the projector's tower.\n";

std::string Variant(const ModelConfig& c) {
  if (c.has_moe()) return "mixture of experts (like 26B-A4B)";
  if (c.has_ple())
    return c.num_kv_shared_layers > 0 ? "per-layer embeddings + KV sharing (like E2B/E4B)" : "per-layer embeddings";
  return c.unified ? "dense, unified (like 12B)" : "dense (like 31B)";
}

double GiB(uint64_t b) { return double(b) / double(1ull << 30); }

// The default compute format (the checkpoint's own, Checkpoint::stored_format()) and where it was
// read from.
struct Stored {
  DType format = DType::BF16;
  std::string how;
};

// config.json's "dtype" (or the older "torch_dtype"), in text_config or at the top level.
std::optional<DType> ConfigDType(const std::filesystem::path& config_path) {
  std::ifstream in(config_path);
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  for (const nlohmann::json* o : {j.contains("text_config") ? &j["text_config"] : nullptr, &j}) {
    if (!o || !o->is_object()) continue;
    for (const char* key : {"dtype", "torch_dtype"}) {
      const std::string name = o->contains(key) && (*o)[key].is_string() ? (*o)[key].get<std::string>() : "";
      if (name == "bfloat16") return DType::BF16;
      if (name == "float16") return DType::F16;
      if (name == "float32") return DType::F32;
    }
  }
  return std::nullopt;
}

Stored StoredFormatOf(const std::filesystem::path& dir) {
  if (IsGgufPath(dir)) return {Checkpoint::Load(dir).stored_format(), "GGUF tensor types"};
  if (std::filesystem::exists(dir / "model.safetensors") ||
      std::filesystem::exists(dir / "model.safetensors.index.json")) {
    return {Checkpoint::Load(dir).stored_format(), "safetensors headers"};
  }
  if (const std::optional<DType> t = ConfigDType(dir / "config.json")) {
    return {*t, "config.json's dtype; no safetensors yet"};
  }
  return {DType::BF16, "assumed: no safetensors yet, no dtype in config.json"};
}

// The lines model, type, layers and hidden: what the config describes.
void PrintArchitecture(const ModelConfig& c, const std::string& model_name) {
  int full = 0, shared = 0;
  for (size_t l = 0; l < c.layers.size(); ++l) {
    full += c.layers[l].full;
    shared += !c.layers[l].owns_kv(int(l));
  }
  std::printf("model        %s\n", model_name.c_str());
  std::printf("type         %s, %s\n", c.model_type.c_str(), Variant(c).c_str());
  std::printf("layers       %d: %d sliding (window %d), %d full; %d read another layer's KV\n", c.num_hidden_layers,
              c.num_hidden_layers - full, c.sliding_window, full, shared);
  std::printf("hidden       %d; heads %d; head dim %d sliding / %d full; vocabulary %d\n", c.hidden_size,
              c.num_attention_heads, c.head_dim, c.global_head_dim, c.vocab_size);
}

// The stored format, and the parameters by group, from the tensor list the config implies.
void PrintParameters(const ModelConfig& c, const Stored& stored, bool gguf_file) {
  std::map<std::string, uint64_t> groups;
  uint64_t total = 0;
  ForEachTensor(c, [&](const TensorSpec& s) {
    uint64_t n = 1;
    for (int64_t d : s.shape) n *= uint64_t(d);
    total += n;
    if (s.name.rfind("embed_tokens_per_layer", 0) == 0)
      groups["per-layer embedding table (host memory)"] += n;
    else if (s.name.rfind("embed_tokens", 0) == 0 || s.name.rfind("lm_head", 0) == 0)
      groups["token embedding"] += n;
    else if (s.name.find("experts.") != std::string::npos)
      groups["experts"] += n;
    else
      groups["other (attention, MLP, norms)"] += n;
  });
  std::printf("stored       %s (%s): the default --weights%s\n", std::string(DTypeName(stored.format)).c_str(),
              stored.how.c_str(), gguf_file ? " of float matrices; block-quantized ones keep their own types" : "");
  std::printf("parameters   %.3f B\n", double(total) / 1e9);
  for (const auto& [name, n] : groups) std::printf("  %-40s %.3f B\n", name.c_str(), double(n) / 1e9);
}

// The image path's tensors (a vision tower or the unified model's embedder): parameters, the
// position tables (host memory, rows gathered per image) and the device bytes of the rest at the
// chosen format (a matrix whose rows are not whole blocks stays f32; clip bounds are read on the host).
struct VisionTally {
  uint64_t params = 0, table = 0, device = 0;
};
VisionTally TallyVisionTensors(const ModelConfig& c, DType format) {
  VisionTally t;
  ForEachVisionTensor(c, [&](const TensorSpec& s) {
    uint64_t n = 1;
    for (int64_t d : s.shape) n *= uint64_t(d);
    t.params += n;
    if (s.role == TensorRole::kEmbedding) {
      t.table += n;
    } else if (s.role == TensorRole::kMatrix) {
      const uint64_t cols = uint64_t(s.shape.back());
      const DType f = IsQuantized(format) && cols % BlockValues(format) ? DType::F32 : format;
      t.device += DTypeBytes(f, n);
    } else if (s.role != TensorRole::kClipBound) {
      t.device += n * 4;
    }
  });
  return t;
}

// The image placeholder ids and how the text model attends over an image's tokens.
void PrintImageTokens(const ModelConfig& c) {
  std::printf("  image tokens: id %d (BOI %d, EOI %d); %s\n", c.mm.image_token_id, c.mm.boi_token_id, c.mm.eoi_token_id,
              c.mm.bidirectional_vision ? "an image's tokens see each other on sliding layers (\"vision\")"
                                        : "causal over image tokens");
}

// gemma4_unified's image embedder (no tower): shape, parameters, device memory (the position table
// stays in host memory) and one image's scratch at 280 soft tokens (docs/model.md §5.7).
void PrintUnifiedVision(const ModelConfig& c, DType format) {
  const UnifiedVisionConfig& u = c.mm.unified_vision;
  const auto [params, table, device] = TallyVisionTensors(c, format);
  const uint64_t S = 280, P = uint64_t(u.patch_values()), D = uint64_t(u.mm_embed_dim);
  const uint64_t scratch = S * 4 * (P + 2 * D + uint64_t(c.hidden_size));
  std::printf(
      "vision       gemma4_unified raw patches (no tower): %dx%d pixel patches (%d values) -> LayerNorm -> linear "
      "to %d -> LayerNorm -> + (x, y) position rows (%d) -> LayerNorm -> RMSNorm -> linear to %d\n",
      u.model_patch_size(), u.model_patch_size(), u.patch_values(), u.mm_embed_dim, u.mm_posemb_size, c.hidden_size);
  std::printf(
      "  parameters %.2f M (position table %.2f M in host memory); device %.1f MiB at %s + %.1f MiB scratch per "
      "image of 280 soft tokens\n",
      double(params) / 1e6, double(table) / 1e6, double(device) / (1 << 20), std::string(DTypeName(format)).c_str(),
      double(scratch) / (1 << 20));
  PrintImageTokens(c);
}

// The vision tower, when the config has one: shape, parameters, and the device memory its weights
// take at the chosen format (the position tables stay in host memory) plus one image's scratch at
// 280 soft tokens (docs/model.md §5).
void PrintVision(const ModelConfig& c, DType format) {
  if (!c.mm.has_vision) {
    std::printf("vision       none (no vision_config): text only\n");
    return;
  }
  if (c.mm.vision_unified) {
    PrintUnifiedVision(c, format);
    return;
  }
  const VisionConfig& v = c.mm.vision;
  const auto [params, table, device] = TallyVisionTensors(c, format);
  const uint64_t N = 280ull * uint64_t(v.pooling_kernel_size * v.pooling_kernel_size);  // patches
  const uint64_t Hv = uint64_t(v.hidden_size), Iv = uint64_t(v.intermediate_size);
  const uint64_t qd = uint64_t(v.num_attention_heads * v.head_dim), kvd = uint64_t(v.num_key_value_heads * v.head_dim);
  const uint64_t wide = std::max({Hv, Iv, qd, uint64_t(v.patch_values())});
  const uint64_t scratch = N * 4 * (uint64_t(v.patch_values()) + 4 * Hv + wide + 2 * qd + 2 * kvd + 2 * Iv);
  std::printf("vision       tower: hidden %d, %d layers, %d heads of %d, MLP %d, patch %d, pooling %d%s%s\n",
              v.hidden_size, v.num_hidden_layers, v.num_attention_heads, v.head_dim, v.intermediate_size, v.patch_size,
              v.pooling_kernel_size, v.use_clipped_linears ? ", clipped linears" : "",
              v.standardize ? ", standardize" : "");
  std::printf(
      "  parameters %.2f M (position tables %.2f M in host memory); device %.1f MiB at %s + %.1f MiB "
      "scratch per image of 280 soft tokens\n",
      double(params) / 1e6, double(table) / 1e6, double(device) / (1 << 20), std::string(DTypeName(format)).c_str(),
      double(scratch) / (1 << 20));
  PrintImageTokens(c);
}

// The audio tower, when the config has one: shape, parameters, and the device memory its weights
// take at the chosen format plus one clip's scratch at 30 s (750 soft tokens; docs/model.md §5.4).
void PrintAudio(const ModelConfig& c, DType format) {
  if (!c.mm.has_audio) {
    std::printf("audio        none (no audio_config): no audio input\n");
    return;
  }
  if (c.mm.audio_unified) {
    const UnifiedAudioConfig& u = c.mm.unified_audio;
    const uint64_t params = uint64_t(c.hidden_size) * uint64_t(u.audio_embed_dim);
    const DType t = IsQuantized(format) && u.audio_embed_dim % int(BlockValues(format)) ? DType::F32 : format;
    // A 30 s clip: 750 frames of audio_embed_dim samples in, 750 soft tokens out.
    const uint64_t frames = 480000 / uint64_t(u.audio_embed_dim);
    const uint64_t scratch = 4 * frames * uint64_t(u.audio_embed_dim + c.hidden_size);
    std::printf(
        "audio        gemma4_unified raw frames (no tower): %d samples (%d ms) per soft token -> RMSNorm -> "
        "linear to %d\n",
        u.audio_embed_dim, u.audio_embed_dim * 1000 / 16000, c.hidden_size);
    std::printf("  parameters %.2f M; device %.1f MiB at %s + %.1f MiB scratch per 30 s clip (%llu soft tokens)\n",
                double(params) / 1e6, double(DTypeBytes(t, params)) / (1 << 20), std::string(DTypeName(format)).c_str(),
                double(scratch) / (1 << 20), (unsigned long long)frames);
    std::printf("  audio tokens: id %d (BOA %d, EOA %d); one per %d ms, causal\n", c.mm.audio_token_id,
                c.mm.boa_token_id, c.mm.eoa_token_id, u.audio_embed_dim * 1000 / 16000);
    return;
  }
  const AudioConfig& a = c.mm.audio;
  uint64_t params = 0, device = 0;
  ForEachAudioTensor(c, [&](const TensorSpec& s) {
    uint64_t n = 1;
    for (int64_t d : s.shape) n *= uint64_t(d);
    params += n;
    if (s.role == TensorRole::kMatrix) {
      const uint64_t cols = uint64_t(s.shape.back());
      const DType t = IsQuantized(format) && cols % BlockValues(format) ? DType::F32 : format;
      // relative_k_proj is not uploaded: its products with the fixed sinusoids are (W rows, f32).
      device += s.name.ends_with("relative_k_proj.weight") ? uint64_t(a.attention_context_left - 1) * cols * 4
                                                           : DTypeBytes(t, n);
    } else if (s.role != TensorRole::kClipBound) {
      device += n * 4;
    }
  });
  const uint64_t T = 750, T1 = 1500, Ha = uint64_t(a.hidden_size);  // 30 s: 3000 frames -> 1500 -> 750 rows
  const uint64_t scratch =
      4 * (3000ull * 128 + T1 * 64 * uint64_t(a.subsampling_channels0) + T * uint64_t(a.subsampled_width()) +
           T * Ha * 15 + T * uint64_t(a.output_proj_dims) + T * uint64_t(c.hidden_size));
  std::printf(
      "audio        tower: hidden %d, %d conformer layers, %d heads of %d, subsampling [%d, %d], chunk %d, "
      "left context %d, output %d%s\n",
      a.hidden_size, a.num_hidden_layers, a.num_attention_heads, a.head_dim(), a.subsampling_channels0,
      a.subsampling_channels1, a.attention_chunk_size, a.attention_context_left - 1, a.output_proj_dims,
      a.use_clipped_linears ? ", clipped linears" : "");
  std::printf("  parameters %.2f M; device %.1f MiB at %s + %.1f MiB scratch per 30 s clip (750 soft tokens)\n",
              double(params) / 1e6, double(device) / (1 << 20), std::string(DTypeName(format)).c_str(),
              double(scratch) / (1 << 20));
  std::printf("  audio tokens: id %d (BOA %d, EOA %d); one per 40 ms, causal\n", c.mm.audio_token_id, c.mm.boa_token_id,
              c.mm.eoa_token_id);
}

// The context an engine would get on the selected device when --ctx is not given
// (Scheduler::DefaultContext, with the device's heap and budget read now), and how it was chosen.
// Without a Vulkan device (or with --device cpu: the reference) the model's maximum.
struct DefaultContextOnDevice {
  uint32_t context = 0;
  std::string text;  // "on DEVICE: REASON"
};
DefaultContextOnDevice DeviceDefaultContext(const ModelConfig& c, const EngineOptions& o, uint64_t weight_bytes) {
  const uint32_t max_ctx = uint32_t(c.max_position_embeddings);
  if (o.device == "cpu") return {max_ctx, "on the CPU reference: the model's maximum"};
  try {
    vk::Instance instance(vk::Instance::OptionsFromEnv());
    const auto devices = vk::ListDevices(instance);
    if (devices.empty()) return {max_ctx, "without a Vulkan device: the model's maximum"};
    const vk::PhysicalDeviceEntry& d =
        vk::SelectDevice(devices, o.device.empty() ? vk::DeviceSelectorFromEnv() : o.device);
    const uint32_t batch = o.batch ? o.batch : Scheduler::DefaultBatch(c, d.caps, weight_bytes, o.kv_dtype);
    // The scheduler sizes its scratch for the model's whole context when none is given.
    const uint64_t scratch = Activations::Bytes(c, batch, 8, max_ctx);
    const Scheduler::ContextChoice choice = Scheduler::DefaultContext(
        c,
        Scheduler::UsableDeviceMemory(d.caps.DeviceLocalBytes(), vk::DeviceLocalBudget(d.handle, d.caps),
                                      o.device_memory),
        d.caps.name, weight_bytes, scratch, batch, o.kv_dtype);
    return {choice.context, "on " + d.caps.name + ": " + choice.reason};
  } catch (const std::exception& e) {  // no fit, no device matching --device: say so, show the maximum
    return {max_ctx, std::string("the model's maximum; ") + e.what()};
  }
}

}  // namespace

int Info(const std::vector<std::string>& args) {
  std::string model_dir, shape;
  EngineOptions o;
  bool weights_set = false;
  OptionParser parser("info");
  AddEngineOptions(parser, &model_dir, &o);
  parser.Value({"--shape"}, [&](const std::string& v) { shape = v; });
  parser.Value({"--weights"}, [&](const std::string& v) {
    o.weights = ParseWeights("--weights", v);
    weights_set = true;
  });
  const auto positional = parser.Parse(args);
  if (positional.size() == 1 && positional[0] == "--help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!positional.empty()) throw UsageError("unexpected argument '" + positional[0] + "'");
  if (model_dir.empty() == shape.empty()) throw UsageError("info needs --model DIR or --shape NAME");
  const ModelConfig c = shape.empty() ? Checkpoint::LoadConfigOf(model_dir, o.mmproj) : ShapeConfig(shape);
  const Stored stored = shape.empty() ? StoredFormatOf(model_dir) : Stored{DType::BF16, "the released checkpoints"};
  if (!weights_set) o.weights = stored.format;
  if (!shape.empty()) model_dir = "built-in " + shape + " shape";

  PrintArchitecture(c, model_dir);
  PrintParameters(c, stored, shape.empty() && IsGgufPath(model_dir));

  // The context: --ctx, else the default on the device for the chosen weights (GGUF own types:
  // the stored format's estimate stands in for the mix).
  const DType chosen_weights = *o.weights;
  const DefaultContextOnDevice dflt = o.context
                                          ? DefaultContextOnDevice{o.context, "--ctx"}
                                          : DeviceDefaultContext(c, o, GpuModel::EstimateBytes(c, chosen_weights));
  const uint32_t ctx = dflt.context;
  // Scratch at the GPU's prompt chunk unless --batch says otherwise (CPU devices use 64).
  if (!o.batch) o.batch = Scheduler::kGpuBatch;
  std::printf("device memory (weights; KV cache %s; scratch at prompt chunk %u%s)\n",
              std::string(DTypeName(o.kv_dtype)).c_str(), o.batch,
              o.batch == Scheduler::kGpuBatch ? ", the GPU default" : "");
  std::printf("  %-6s %10s   %s\n", "format", "weights", "total at context 4096 / 8192 / 32768 / max");
  const uint64_t scratch = Activations::Bytes(c, o.batch, 8, ctx);
  const auto print_row = [&](const std::string& name, uint64_t w) {
    std::printf("  %-6s %7.2f GiB  ", name.c_str(), GiB(w));
    for (uint32_t n : {4096u, 8192u, 32768u, uint32_t(c.max_position_embeddings)}) {
      std::printf(" %7.2f", GiB(w + scratch +
                                KvCache::Bytes(c, std::min<uint32_t>(n, uint32_t(c.max_position_embeddings)), o.batch,
                                               o.kv_dtype)));
    }
    std::printf(" GiB\n");
  };
  // A GGUF file without --weights: every block-quantized matrix keeps its stored type (the row
  // "stored"); the --weights formats follow, largest first.
  const bool own_types = !weights_set && IsGgufPath(model_dir);
  std::set<DType> own_formats;
  uint64_t own_bytes = 0;
  if (own_types) {
    const Checkpoint ckpt = Checkpoint::Load(model_dir);
    const std::unique_ptr<WeightSource> src = CheckpointWeights(ckpt);
    own_bytes = GpuModel::EstimateBytes(
        c, stored.format, [&](const std::string& n) { return src->StoredType(n); }, &own_formats);
    print_row("stored", own_bytes);
  }
  for (DType t : {DType::F32, DType::BF16, DType::F16, DType::Q8_0, DType::Q6_K, DType::Q5_1, DType::Q5_K, DType::Q5_0,
                  DType::Q4_1, DType::Q4_K, DType::Q4_0, DType::Q3_K, DType::Q2_K}) {
    print_row(std::string(DTypeName(t)), GpuModel::EstimateBytes(c, t));
  }
  // The KV cache alone in each format at the chosen context and at the model's full context.
  const uint32_t full_ctx = uint32_t(c.max_position_embeddings);
  const uint64_t kv_f16 = KvCache::Bytes(c, full_ctx, o.batch, DType::F16);
  std::printf("KV cache by --kv format at context %u / %u:", ctx, full_ctx);
  for (DType t : {DType::F32, DType::F16, DType::Q8_0, DType::Q4_0}) {
    const uint64_t full = KvCache::Bytes(c, full_ctx, o.batch, t);
    std::printf("%s %s %.2f / %.2f GiB (%.3fx f16)", t == DType::F32 ? "" : ",", std::string(DTypeName(t)).c_str(),
                GiB(KvCache::Bytes(c, ctx, o.batch, t)), GiB(full), double(full) / double(kv_f16));
  }
  std::printf("\n");
  const DType chosen = chosen_weights;
  const uint64_t kv = KvCache::Bytes(c, ctx, o.batch, o.kv_dtype);
  std::printf("context      %u positions with a %s cache (%s)\n", ctx, std::string(DTypeName(o.kv_dtype)).c_str(),
              dflt.text.c_str());
  const auto print_chosen = [&](const std::string& what, uint64_t w, const char* why) {
    std::printf("chosen       %s --ctx %u: weights %.2f GiB + KV cache %.2f GiB + scratch %.2f GiB = %.2f GiB%s\n",
                what.c_str(), ctx, GiB(w), GiB(kv), GiB(scratch), GiB(w + kv + scratch), why);
  };
  if (own_types) {  // what Engine::Open does with a GGUF file and no --weights
    std::string types;
    for (DType t : own_formats) types += (types.empty() ? "" : "+") + std::string(DTypeName(t));
    print_chosen("each matrix in its stored type (" + types + ")", own_bytes, " (the default)");
    PrintVision(c, DType::F32);
    PrintAudio(c, DType::F32);
    return 0;
  }
  print_chosen("--weights " + std::string(DTypeName(chosen)), GpuModel::EstimateBytes(c, chosen),
               weights_set ? "" : " (the stored format: the default)");
  PrintVision(c, chosen);
  PrintAudio(c, chosen);
  return 0;
}

}  // namespace vkg::cli
