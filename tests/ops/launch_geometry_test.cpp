// Launch geometry of the GPU kernel family at the real decode (and prefill attention) shapes, pinned on described GPUs
// (no device needed): the plans of host/ops/plans/matvec_plan.h and host/ops/plans/attention_plan.h for every
// decode product and attention layer of E2B and 31B (and 26B-A4B's experts), at contexts from 1
// key to 128k, and the embedding gathers of both for one token and a 512-token chunk. The bounds, and why (docs/gpu.md):
// - an op that reads over 1 MB launches at least 4 workgroups per compute unit: a GPU hides memory
//   latency only with many warps in flight per SM (Little's law: ~22 KB in flight per H200 SM).
//   Decode attention may stop short of it only where every workgroup already holds a single
//   32-key tile (the work cannot be split finer without wasting the tile).
// - no invocation loads K or V rows of more than 64 keys in one phase of decode attention, nor
//   more than 4 KiB of one weight row in a product: bounded serial work, so a long context or a
//   wide matrix becomes more workgroups, not longer loops.
// - decode attention at 32k keys launches at least as many workgroups as at 512 (a 31B full layer
//   is never slower per key at 32k than at 512 for lack of parallelism).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

#include "host/device/weight_matrix.h"
#include "host/model/shapes.h"
#include "host/ops/plans/attention_plan.h"
#include "host/ops/plans/embed_plan.h"
#include "host/ops/plans/matmul_coopmat_plan.h"
#include "host/ops/plans/matvec_plan.h"

namespace vkg::test {
namespace {

struct Gpu {
  const char* name;
  uint32_t compute_units, subgroup, min_subgroup, max_subgroup;
};

// What the drivers report (compute units where VK_NV_shader_sm_builtins / VK_AMD_shader_core_
// properties tell them; the Intel line is the 64-unit default a driver that tells nothing gets).
const Gpu kGpus[] = {
    {"H200 (132 SMs, subgroup 32)", 132, 32, 32, 32},
    {"RX 7900 XTX (96 CUs, subgroup 64, 32..64)", 96, 64, 32, 64},
    {"Arc A770 (default 64 units, subgroup 32, 8..32)", 0, 32, 8, 32},
};

vk::DeviceCaps Describe(const Gpu& g) {
  vk::DeviceCaps c;
  c.name = g.name;
  c.type = VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
  c.compute_units = g.compute_units;
  c.subgroup_size = g.subgroup;
  c.min_subgroup_size = g.min_subgroup;
  c.max_subgroup_size = g.max_subgroup;
  c.max_workgroup_invocations = 1024;
  c.max_shared_memory = 48 * 1024;
  return c;
}

constexpr uint64_t kMiB = uint64_t(1) << 20;
constexpr uint64_t kWorkgroupsPerCu = 4;

struct Product {
  std::string name;
  uint64_t rows;
  uint32_t cols;
};

// Every decode product of a model, stacked as host/runtime/forward.cpp stacks them.
std::vector<Product> Products(const ModelConfig& c) {
  std::vector<Product> out;
  const uint32_t H = uint32_t(c.hidden_size), NH = uint32_t(c.num_attention_heads);
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const LayerInfo& li = c.layers[size_t(l)];
    const uint32_t D = uint32_t(li.head_dim), KVH = uint32_t(li.n_kv_heads);
    const std::string at = "layer " + std::to_string(l) + " ";
    out.push_back({at + "qkv", uint64_t(NH) * D + (li.has_v ? 2u : 1u) * KVH * D, H});
    out.push_back({at + "o", H, NH * D});
    if (li.ffn_dim > 0) {
      // The [gate | up] stack writes gelu(gate) * up: its plan is for ffn_dim outputs, each reading
      // a gate and an up row (host/ops/matmul.cpp MatVecGeluPairs).
      out.push_back({at + "gate_up (gelu pairs)", uint64_t(li.ffn_dim), H});
      out.push_back({at + "down", H, uint32_t(li.ffn_dim)});
    }
  }
  if (c.has_ple()) {
    const uint32_t P = uint32_t(c.hidden_size_per_layer_input);
    out.push_back({"ple model projection", uint64_t(c.num_hidden_layers) * P, H});
    out.push_back({"ple gate", P, H});
    out.push_back({"ple projection", H, P});
  }
  out.push_back({"head", uint64_t(c.vocab_size), H});
  return out;
}

TEST(LaunchGeometry, DecodeProductsFillTheGpuWithBoundedRows) {
  for (const Gpu& g : kGpus) {
    const vk::DeviceCaps caps = Describe(g);
    for (const char* model : {"e2b", "31b"}) {
      const ModelConfig c = ShapeConfig(model);
      // K-quants: rows padded to 256 values; Q6_K's data texels (13 per 256 values) set its serial
      // bytes. Q4_1 / Q5_0 / Q5_1: q4_0's data texels (their m / qh in the scales view); Q2_K / Q3_K:
      // 5 / 7 data texels per 256 values.
      for (DType t : {DType::Q4_0, DType::Q8_0, DType::F16, DType::BF16, DType::Q4_K, DType::Q5_K, DType::Q6_K,
                      DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K}) {
        uint64_t fewest = ~uint64_t(0);
        for (const Product& p : Products(c)) {
          const MatVecPlan plan = PlanMatVec(caps, true, t, p.rows, PaddedCols(t, p.cols));
          const std::string what = std::string(g.name) + " " + model + " " + std::string(DTypeName(t)) + " " + p.name;
          EXPECT_FALSE(plan.rows_per_invocation) << what;
          if (plan.bytes_read > kMiB) {
            EXPECT_GE(plan.workgroups, kWorkgroupsPerCu * caps.ComputeUnits()) << what;
            fewest = std::min(fewest, plan.workgroups);
          }
          EXPECT_LE(plan.serial_row_bytes, 4096u) << what;
          EXPECT_GE(plan.loads_in_flight, 2u) << what;
          EXPECT_EQ(plan.workgroup % caps.subgroup_size, 0u) << what;
        }
        std::printf("  %s %s %s: fewest workgroups of a >1 MB product %llu\n", g.name, model,
                    std::string(DTypeName(t)).c_str(), (unsigned long long)fewest);
      }
    }
  }
}

TEST(LaunchGeometry, MoeExpertProductsFillTheGpu) {
  const ModelConfig c = ShapeConfig("26b-a4b");
  const vk::DeviceCaps caps = Describe(kGpus[0]);
  const uint64_t slots = uint64_t(c.top_k_experts);
  const uint32_t I = uint32_t(c.moe_intermediate_size), H = uint32_t(c.hidden_size);
  for (DType t : {DType::Q4_0, DType::Q8_0, DType::BF16, DType::Q4_K, DType::Q6_K, DType::Q5_1, DType::Q2_K}) {
    const MatVecPlan gate_up = PlanMatVec(caps, true, t, 2 * uint64_t(I) * slots, PaddedCols(t, H));
    const MatVecPlan down = PlanMatVec(caps, true, t, uint64_t(H) * slots, PaddedCols(t, I));
    for (const MatVecPlan* p : {&gate_up, &down}) {
      if (p->bytes_read > kMiB) {
        EXPECT_GE(p->workgroups, kWorkgroupsPerCu * caps.ComputeUnits());
      }
      EXPECT_LE(p->serial_row_bytes, 4096u);
    }
  }
}

// A head smaller than the released ones (the tiny test checkpoints' 16) keeps 8 key groups, not
// 256 / 2 = 128, of which 120 would never hold a key of a 32-key tile yet each pay a barrier.
TEST(LaunchGeometry, DecodeAttentionKeyGroupsAreCapped) {
  const vk::DeviceCaps caps = Describe(kGpus[0]);
  for (uint32_t head : {16u, 32u, 64u, 128u}) {
    AttentionShape s;
    s.start_pos = 99;
    s.n_heads = 4;
    s.n_kv_heads = 1;
    s.head_dim = head;
    s.cache_len = 100;
    EXPECT_EQ(PlanAttentionDecode(caps, true, s, 2).kgroups, kAttentionGpuMaxKeyGroups) << "head " << head;
  }
}

TEST(LaunchGeometry, DecodeAttentionFillsTheGpuAtEveryContext) {
  for (const Gpu& g : kGpus) {
    const vk::DeviceCaps caps = Describe(g);
    for (const char* model : {"e2b", "31b"}) {
      const ModelConfig c = ShapeConfig(model);
      for (bool full : {false, true}) {
        const LayerInfo* li = nullptr;
        for (const LayerInfo& l : c.layers)
          if (l.full == full) li = &l;
        ASSERT_NE(li, nullptr);
        uint64_t at512 = 0;
        for (uint32_t keys : {1u, 37u, 512u, 520u, 2048u, 8192u, 32768u, 131072u}) {
          AttentionShape s;
          s.start_pos = keys - 1;
          s.n_heads = uint32_t(c.num_attention_heads);
          s.n_kv_heads = uint32_t(li->n_kv_heads);
          s.head_dim = uint32_t(li->head_dim);
          s.cache_len = full ? keys : std::min<uint32_t>(keys, uint32_t(li->window));
          s.window = uint32_t(li->window);
          const AttentionDecodePlan p = PlanAttentionDecode(caps, true, s, 2);
          const std::string what = std::string(g.name) + " " + model + (full ? " full" : " sliding") + " at " +
                                   std::to_string(keys) + " keys";
          ASSERT_TRUE(p.gpu_kernel) << what;
          EXPECT_LE(p.serial_keys, 64u) << what;
          EXPECT_LE(p.splits, kAttentionGpuMaxSplits) << what;
          EXPECT_EQ(p.workgroups, uint64_t(p.row_blocks) * s.n_kv_heads * p.splits) << what;
          // P.V key groups: 256 / (head / 8) invocations each (8 at head 256, 4 at 512), one barrier
          // each in the kernel's final sum.
          EXPECT_EQ(p.kgroups, s.head_dim == 256 ? 8u : 4u) << what;
          if (p.bytes_read > kMiB && p.keys_per_split > kAttentionGpuTile) {
            EXPECT_GE(p.workgroups, kWorkgroupsPerCu * caps.ComputeUnits()) << what;
          }
          // The scratch that Activations sizes without a device holds every device's partials.
          EXPECT_GE(AttentionScratchFloats(s, 1), p.ScratchFloats(s.n_heads, s.head_dim)) << what;
          if (keys == 512) at512 = p.workgroups;
          if (keys == 32768) {
            EXPECT_GE(p.workgroups, at512) << what;
          }
          if (g.compute_units == 132 && (keys == 520 || keys == 32768))
            std::printf(
                "  %s %s %u keys: %llu workgroups x %u invocations, %u splits of %u keys, %u keys per "
                "invocation, %.1f MB\n",
                model, full ? "full" : "sliding", keys, (unsigned long long)p.workgroups, p.workgroup, p.splits,
                p.keys_per_split, p.serial_keys, p.bytes_read / 1e6);
        }
      }
    }
  }
}

// Flash-attention prefill (attention_prefill_gpu.comp) at the E2B and 31B shapes, chunks of 64,
// 512 and 2048 tokens at the start of the prompt and continuing a 4k cache: the GPU kernel, a tile
// that fits 48 KiB of shared memory, at least 4 workgroups per compute unit unless every split is
// already the minimum (64 keys, rounded to the tile), the Activations-sized scratch enough for the
// partials, and the H200 geometry the kernel's header states.
TEST(LaunchGeometry, PrefillAttentionFillsTheGpu) {
  for (const Gpu& g : kGpus) {
    const vk::DeviceCaps caps = Describe(g);
    for (const char* model : {"e2b", "31b"}) {
      const ModelConfig c = ShapeConfig(model);
      for (bool full : {false, true}) {
        const LayerInfo* li = nullptr;
        for (const LayerInfo& l : c.layers)
          if (l.full == full) li = &l;
        ASSERT_NE(li, nullptr);
        for (uint32_t T : {64u, 512u, 2048u}) {
          for (uint32_t start : {0u, 4096u}) {
            AttentionShape s;
            s.start_pos = start;
            s.n_heads = uint32_t(c.num_attention_heads);
            s.n_kv_heads = uint32_t(li->n_kv_heads);
            s.head_dim = uint32_t(li->head_dim);
            s.window = uint32_t(li->window);
            s.cache_len = full ? start + T : std::min<uint32_t>(start + T, s.window + T - 1);
            const AttentionPrefillPlan p = PlanAttentionPrefill(caps, true, s, T, 2);
            const std::string what = std::string(g.name) + " " + model + (full ? " full" : " sliding") + " T " +
                                     std::to_string(T) + " at " + std::to_string(start);
            ASSERT_TRUE(p.gpu_kernel) << what;
            EXPECT_LE(p.shared_bytes, caps.max_shared_memory) << what;
            EXPECT_EQ(p.workgroups, uint64_t(p.row_blocks) * s.n_kv_heads * p.splits) << what;
            EXPECT_EQ(p.keys_per_split % p.keys_per_tile, 0u) << what;
            EXPECT_LE(p.splits, kAttentionGpuMaxSplits) << what;
            const uint32_t min_split =
                uint32_t(DivUp(kAttentionPrefillMinKeysPerSplit, p.keys_per_tile) * p.keys_per_tile);
            if (p.workgroups < kWorkgroupsPerCu * caps.ComputeUnits()) {
              EXPECT_LE(p.keys_per_split, min_split) << what << ": too few workgroups, yet splits could be finer";
            }
            EXPECT_GE(AttentionScratchFloats(s, T), p.ScratchFloats(T, s.n_heads, s.head_dim)) << what;
            if (g.compute_units == 132 && start == 0 && T != 64)
              std::printf(
                  "  %s %s T %u: %u row blocks (BR %u x BC %u, %u B shared) x %u KV heads x %u splits of %u "
                  "keys = %llu workgroups x %u invocations, %.1f MB of K/V\n",
                  model, full ? "full" : "sliding", T, p.row_blocks, p.rows, p.keys_per_tile, p.shared_bytes,
                  s.n_kv_heads, p.splits, p.keys_per_split, (unsigned long long)p.workgroups, p.workgroup,
                  p.bytes_read / 1e6);
          }
        }
      }
    }
  }
  // The numbers attention_prefill_gpu.comp's header gives for the H200 (first chunk of a prompt).
  const vk::DeviceCaps h200 = Describe(kGpus[0]);
  struct Want {
    const char* model;
    bool full;
    uint32_t T, rows, tile, splits, keys_per_split;
    uint64_t workgroups;
  };
  for (const Want& w : {Want{"e2b", false, 512, 16, 32, 4, 160, 1024}, Want{"e2b", false, 2048, 16, 32, 1, 544, 1024},
                        Want{"e2b", true, 512, 8, 16, 2, 256, 1024}, Want{"e2b", true, 2048, 8, 16, 1, 2048, 2048},
                        Want{"31b", false, 512, 16, 32, 1, 512, 1024}, Want{"31b", true, 512, 8, 16, 1, 512, 2048}}) {
    const ModelConfig c = ShapeConfig(w.model);
    const LayerInfo* li = nullptr;
    for (const LayerInfo& l : c.layers)
      if (l.full == w.full) li = &l;
    AttentionShape s;
    s.n_heads = uint32_t(c.num_attention_heads);
    s.n_kv_heads = uint32_t(li->n_kv_heads);
    s.head_dim = uint32_t(li->head_dim);
    s.window = uint32_t(li->window);
    s.cache_len = w.full ? w.T : std::min<uint32_t>(w.T, s.window + w.T - 1);
    const AttentionPrefillPlan p = PlanAttentionPrefill(h200, true, s, w.T, 2);
    const std::string what = std::string(w.model) + (w.full ? " full" : " sliding") + " T " + std::to_string(w.T);
    EXPECT_EQ(p.rows, w.rows) << what;
    EXPECT_EQ(p.keys_per_tile, w.tile) << what;
    EXPECT_EQ(p.splits, w.splits) << what;
    EXPECT_EQ(p.keys_per_split, w.keys_per_split) << what;
    EXPECT_EQ(p.workgroups, w.workgroups) << what;
  }
}

// Prefill products on matrix units (shaders/matmul_coopmat.comp, 16x16x16 f16 units) at a 512-token
// prefill and at the default 64-token chunk, on an H200 (132 SMs, subgroup 32, 48 KiB of shared
// memory per workgroup without opt-in): every product launches at least 2 workgroups per SM, fits
// shared memory, and keeps the widest tile the shape allows (every weight byte serves up to 64
// tokens); the header's numbers are pinned.
TEST(LaunchGeometry, CoopMatPrefillProductsFillTheGpu) {
  const vk::DeviceCaps h200 = Describe(kGpus[0]);
  vk::CoopMatShape unit;
  unit.m = unit.n = unit.k = 16;
  struct Pinned {
    const char* name;
    uint64_t rows;
    uint32_t tile_m, tile_n;
    uint64_t workgroups;
    uint32_t step_k, shared_bytes;  // two buffers of each tile: 64-K steps where they fit 48 KiB
  };
  for (const Pinned& p :
       {Pinned{"E2B q/o 1536", 1536, 32, 64, 384, 64, 27648}, Pinned{"E2B FFN 6144", 6144, 64, 128, 384, 32, 30720},
        Pinned{"E2B FFN 12288", 12288, 64, 128, 768, 32, 30720},
        Pinned{"31B hidden 5376", 5376, 64, 128, 336, 32, 30720},
        Pinned{"31B FFN 21504", 21504, 64, 128, 1344, 32, 30720},
        Pinned{"vocabulary 262144", 262144, 64, 128, 16384, 32, 30720}}) {
    const CoopMatPlan plan = PlanCoopMat(h200, unit, 32, 512, p.rows);
    std::printf("  %s x 512 tokens: tile %ux%u, %llu workgroups of %u, %u B shared\n", p.name, plan.tile_m, plan.tile_n,
                (unsigned long long)plan.workgroups, plan.workgroup, plan.shared_bytes);
    EXPECT_EQ(plan.tile_m, p.tile_m) << p.name;
    EXPECT_EQ(plan.tile_n, p.tile_n) << p.name;
    EXPECT_EQ(plan.workgroups, p.workgroups) << p.name;
    EXPECT_EQ(plan.step_k, p.step_k) << p.name;
    EXPECT_EQ(plan.shared_bytes, p.shared_bytes) << p.name;
    EXPECT_EQ(plan.workgroup, 128u);
    EXPECT_LE(plan.shared_bytes, h200.max_shared_memory);
    EXPECT_GE(plan.workgroups, kCoopMatWorkgroupsPerComputeUnit * 132) << p.name;
  }
  // The default 64-token chunk (vkgemma --batch 64): smaller tiles keep 31B's products above 2 per SM.
  for (uint64_t rows : {5376ull, 21504ull}) {
    const CoopMatPlan plan = PlanCoopMat(h200, unit, 32, 64, rows);
    EXPECT_GE(plan.workgroups, kCoopMatWorkgroupsPerComputeUnit * 132) << rows;
  }
  // A device with little shared memory gets a tile that fits.
  vk::DeviceCaps small = h200;
  small.max_shared_memory = 16 * 1024;
  EXPECT_LE(PlanCoopMat(small, unit, 32, 512, 21504).shared_bytes, 16u * 1024);
  // Mid-range AMD (RDNA: 64 KiB of LDS a workgroup, subgroup 64) and Intel Arc (64 KiB): the widest
  // tile at 64-K steps, 54 KiB; 256 invocations on wave64.
  const vk::DeviceCaps amd = [] {
    vk::DeviceCaps c = Describe(kGpus[1]);
    c.max_shared_memory = 64 * 1024;
    return c;
  }();
  const CoopMatPlan wide = PlanCoopMat(amd, unit, 64, 512, 21504);
  EXPECT_EQ(wide.tile_m, 64u);
  EXPECT_EQ(wide.tile_n, 128u);
  EXPECT_EQ(wide.step_k, 64u);
  EXPECT_EQ(wide.shared_bytes, 55296u);
  EXPECT_EQ(wide.workgroup, 256u);
}

// Flash-attention prefill on matrix units (attention_prefill_coopmat.comp, 16x16x16 f16 units) at
// the E2B and 31B shapes, a 512-token chunk at contexts 512..32k (the chunk ending at 512, 4096 and
// 32768 keys): the matrix-unit kernel, a tile that fits 48 KiB, the S and O fragments even over its
// 4 subgroups, at least 4 workgroups per compute unit unless every split is already the minimum,
// the scratch AttentionScratchFloats sizes enough for the partials, and the H200 geometry the
// kernel's header states.
TEST(LaunchGeometry, CoopMatPrefillAttentionFillsTheGpu) {
  vk::CoopMatShape unit;
  unit.m = unit.n = unit.k = 16;
  for (const Gpu& g : kGpus) {
    const vk::DeviceCaps caps = Describe(g);
    for (const char* model : {"e2b", "31b"}) {
      const ModelConfig c = ShapeConfig(model);
      for (bool full : {false, true}) {
        const LayerInfo* li = nullptr;
        for (const LayerInfo& l : c.layers)
          if (l.full == full) li = &l;
        ASSERT_NE(li, nullptr);
        for (uint32_t end : {512u, 4096u, 32768u}) {
          const uint32_t T = 512;
          AttentionShape s;
          s.start_pos = end - T;
          s.n_heads = uint32_t(c.num_attention_heads);
          s.n_kv_heads = uint32_t(li->n_kv_heads);
          s.head_dim = uint32_t(li->head_dim);
          s.window = uint32_t(li->window);
          s.cache_len = full ? end : std::min<uint32_t>(end, s.window + T - 1);
          const AttentionPrefillPlan p = PlanAttentionPrefillCoopMat(caps, unit, g.subgroup, s, T, 2);
          const std::string what =
              std::string(g.name) + " " + model + (full ? " full" : " sliding") + " to " + std::to_string(end);
          ASSERT_TRUE(p.coopmat) << what;
          EXPECT_LE(p.shared_bytes, caps.max_shared_memory) << what;
          EXPECT_EQ(p.workgroup, kAttentionCoopMatSubgroups * g.subgroup) << what;
          EXPECT_EQ(p.rows % 16, 0u) << what;
          EXPECT_EQ(p.keys_per_tile % 16, 0u) << what;
          EXPECT_EQ((p.rows / 16) * (s.head_dim / 16) % kAttentionCoopMatSubgroups, 0u) << what;
          EXPECT_EQ((p.rows / 16) * (p.keys_per_tile / 16) * p.ksplit % kAttentionCoopMatSubgroups, 0u) << what;
          EXPECT_EQ(p.workgroups, uint64_t(p.row_blocks) * s.n_kv_heads * p.splits) << what;
          EXPECT_EQ(p.keys_per_split % p.keys_per_tile, 0u) << what;
          EXPECT_LE(p.splits, kAttentionGpuMaxSplits) << what;
          const uint32_t min_split =
              uint32_t(DivUp(kAttentionPrefillMinKeysPerSplit, p.keys_per_tile) * p.keys_per_tile);
          if (p.workgroups < kWorkgroupsPerCu * caps.ComputeUnits()) {
            EXPECT_LE(p.keys_per_split, min_split) << what << ": too few workgroups, yet splits could be finer";
          }
          if (g.subgroup == 32) {
            EXPECT_GE(AttentionScratchFloats(s, T), p.ScratchFloats(T, s.n_heads, s.head_dim)) << what;
          }
          if (g.compute_units == 132)
            std::printf(
                "  coopmat %s %s to %u keys: %u row blocks (BR %u x BC %u, KSPLIT %u, %u B shared) x %u KV "
                "heads x %u splits of %u keys = %llu workgroups x %u invocations, %.1f MB of K/V\n",
                model, full ? "full" : "sliding", end, p.row_blocks, p.rows, p.keys_per_tile, p.ksplit, p.shared_bytes,
                s.n_kv_heads, p.splits, p.keys_per_split, (unsigned long long)p.workgroups, p.workgroup,
                p.bytes_read / 1e6);
        }
      }
    }
  }
  // The numbers attention_prefill_coopmat.comp's header gives for the H200.
  const vk::DeviceCaps h200 = Describe(kGpus[0]);
  struct Want {
    const char* model;
    bool full;
    uint32_t end, rows, tile, ksplit, splits;
    uint64_t workgroups;
  };
  for (const Want& w : {Want{"e2b", false, 512, 32, 32, 1, 6, 768}, Want{"e2b", true, 512, 16, 16, 4, 4, 1024},
                        Want{"e2b", false, 32768, 32, 32, 1, 6, 768}, Want{"e2b", true, 32768, 16, 16, 4, 4, 1024},
                        Want{"31b", false, 512, 32, 32, 1, 2, 1024}, Want{"31b", true, 512, 16, 16, 4, 1, 1024}}) {
    const ModelConfig c = ShapeConfig(w.model);
    const LayerInfo* li = nullptr;
    for (const LayerInfo& l : c.layers)
      if (l.full == w.full) li = &l;
    AttentionShape s;
    s.start_pos = w.end - 512;
    s.n_heads = uint32_t(c.num_attention_heads);
    s.n_kv_heads = uint32_t(li->n_kv_heads);
    s.head_dim = uint32_t(li->head_dim);
    s.window = uint32_t(li->window);
    s.cache_len = w.full ? w.end : std::min<uint32_t>(w.end, s.window + 511);
    const AttentionPrefillPlan p = PlanAttentionPrefillCoopMat(h200, unit, 32, s, 512, 2);
    const std::string what = std::string(w.model) + (w.full ? " full" : " sliding") + " to " + std::to_string(w.end);
    EXPECT_EQ(p.rows, w.rows) << what;
    EXPECT_EQ(p.keys_per_tile, w.tile) << what;
    EXPECT_EQ(p.ksplit, w.ksplit) << what;
    EXPECT_EQ(p.splits, w.splits) << what;
    EXPECT_EQ(p.workgroups, w.workgroups) << what;
    EXPECT_GE(p.workgroups, kWorkgroupsPerCu * 132) << what;
  }
  // Other units the drivers list: NVIDIA's 16x8x16, and 8-row units; a device with little shared
  // memory still gets a tile that fits.
  AttentionShape s{0, 8, 1, 512, 512, 0, 1.f};
  for (auto [m, n, k] : {std::tuple{16u, 8u, 16u}, {8u, 16u, 16u}, {16u, 16u, 16u}}) {
    vk::CoopMatShape u;
    u.m = m, u.n = n, u.k = k;
    for (uint32_t kib : {32u, 48u, 64u}) {
      vk::DeviceCaps caps = h200;
      caps.max_shared_memory = kib * 1024;
      for (uint32_t hd : {256u, 512u}) {
        s.head_dim = hd;
        const AttentionPrefillPlan p = PlanAttentionPrefillCoopMat(caps, u, 32, s, 512, 2);
        EXPECT_TRUE(p.coopmat || (kib == 32 && hd == 512))
            << u.m << "x" << u.n << "x" << u.k << " " << kib << " KiB head " << hd;
        if (p.coopmat) {
          EXPECT_LE(p.shared_bytes, caps.max_shared_memory);
        }
      }
    }
  }
}

// The embedding gathers (embed_rows.comp on the GPU family): a workgroup per (token, 64 texels of
// its row), each invocation ONE 16-byte texel, so a row is read in one pass of full-width loads with
// no serial loop, and a token takes ceil(row texels / 64) workgroups, whatever the table's rows
// (262144: chunked by the weight upload; every chunk's dispatch has this grid, tokens whose row
// lies elsewhere leave at once). Tables: E2B's tokens (1536 wide) and per-layer inputs (35 layers
// x 256 = 8960 wide), 31B's tokens (5376 wide); decode (1 token) and a 512-token prompt chunk.
TEST(LaunchGeometry, EmbedRowsTakeAWorkgroupPerTokenAnd64Texels) {
  const ModelConfig e2b = ShapeConfig("e2b"), b31 = ShapeConfig("31b");
  ASSERT_EQ(e2b.hidden_size, 1536);
  ASSERT_EQ(e2b.vocab_size, 262144);
  ASSERT_EQ(e2b.vocab_size_per_layer_input, 262144);
  ASSERT_EQ(e2b.num_hidden_layers * e2b.hidden_size_per_layer_input, 35 * 256);
  ASSERT_EQ(b31.hidden_size, 5376);
  struct Table {
    const char* name;
    uint32_t dim;
    DType t;
    uint32_t texels, workgroups_per_token;
  };
  const Table kTables[] = {
      {"e2b tokens", 1536, DType::Q4_0, 48, 1},      {"e2b tokens", 1536, DType::Q8_0, 96, 2},
      {"e2b tokens", 1536, DType::BF16, 192, 3},     {"e2b tokens", 1536, DType::F16, 192, 3},
      {"e2b tokens", 1536, DType::F32, 384, 6},      {"e2b per-layer", 8960, DType::Q4_0, 280, 5},
      {"e2b per-layer", 8960, DType::Q8_0, 560, 9},  {"e2b per-layer", 8960, DType::BF16, 1120, 18},
      {"e2b per-layer", 8960, DType::F32, 2240, 35}, {"31b tokens", 5376, DType::Q4_0, 168, 3},
      {"31b tokens", 5376, DType::Q8_0, 336, 6},     {"31b tokens", 5376, DType::BF16, 672, 11},
      {"31b tokens", 5376, DType::F32, 1344, 21},
  };
  const uint64_t h200_units = kGpus[0].compute_units;
  for (const Table& tb : kTables) {
    for (uint32_t tokens : {1u, 512u}) {
      const std::string what =
          std::string(tb.name) + " " + std::string(DTypeName(tb.t)) + " x" + std::to_string(tokens);
      const EmbedPlan p = PlanEmbed(true, tb.t, tb.dim, PaddedCols(tb.t, tb.dim), tokens);
      EXPECT_TRUE(p.rows) << what;
      EXPECT_EQ(p.row_texels, tb.texels) << what;
      EXPECT_EQ(p.grid.x, tb.workgroups_per_token) << what;
      EXPECT_EQ(p.grid.y, tokens) << what;
      // The fill rule of the products: a gather reading over 1 MB (bf16 / f32 / per-layer chunks)
      // launches at least 4 workgroups per H200 SM.
      const uint64_t scales = WeightScaleRowBytes(tb.t, PaddedCols(tb.t, tb.dim));
      const uint64_t bytes = tokens * (WeightRowBytes(tb.t, PaddedCols(tb.t, tb.dim)) + scales);
      if (bytes > kMiB) {
        EXPECT_GE(p.workgroups(), kWorkgroupsPerCu * h200_units) << what;
      }
    }
  }
  // The CPU family keeps embed.comp, one invocation per value: 512 x 1536 / 64 workgroups.
  const EmbedPlan cpu = PlanEmbed(false, DType::Q4_0, 1536, 1536, 512);
  EXPECT_FALSE(cpu.rows);
  EXPECT_EQ(cpu.workgroups(), 512u * 1536 / 64);
  // So does the GPU family where embed_rows' vec4 stores or its grid's y do not fit.
  EXPECT_FALSE(PlanEmbed(true, DType::F32, 1534, 1536, 1).rows);
  EXPECT_FALSE(PlanEmbed(true, DType::F32, 1536, 1536, 65536).rows);
}

// CPU devices keep their own kernels (lavapipe measured them faster); the GPU family falls back
// to the CPU attention kernel only for heads that are not a multiple of 8 values.
TEST(LaunchGeometry, CpuDevicesKeepTheCpuKernels) {
  vk::DeviceCaps cpu;
  cpu.type = VK_PHYSICAL_DEVICE_TYPE_CPU;
  cpu.subgroup_size = cpu.min_subgroup_size = cpu.max_subgroup_size = 8;
  cpu.max_workgroup_invocations = 1024;
  cpu.max_shared_memory = 32 * 1024;
  AttentionShape s{4095, 8, 1, 512, 4096, 0, 1.f};
  EXPECT_FALSE(PlanAttentionDecode(cpu, false, s, 2).gpu_kernel);
  EXPECT_TRUE(PlanMatVec(cpu, false, DType::Q4_0, 6144, 1536).rows_per_invocation);
  // head_dim not a multiple of 8: the GPU family falls back to the CPU attention kernel.
  s.head_dim = 18;
  EXPECT_FALSE(PlanAttentionDecode(cpu, true, s, 2).gpu_kernel);
  // Prefill: the CPU family keeps attention_prefill.comp; the GPU family forced there takes the
  // flash kernel with a tile that fits lavapipe's 32 KiB, except for heads not a multiple of 8.
  s = AttentionShape{0, 8, 1, 512, 512, 0, 1.f};
  EXPECT_FALSE(PlanAttentionPrefill(cpu, false, s, 512, 2).gpu_kernel);
  const AttentionPrefillPlan forced = PlanAttentionPrefill(cpu, true, s, 512, 2);
  EXPECT_TRUE(forced.gpu_kernel);
  EXPECT_LE(forced.shared_bytes, cpu.max_shared_memory);
  s.head_dim = 18;
  EXPECT_FALSE(PlanAttentionPrefill(cpu, true, s, 512, 2).gpu_kernel);
}

// Per-query last keys (AttentionShape::last_key) on the GPU kernels: the vision tower's all-see-all
// attention over one image's patches (the released tower: 12 heads of 64; 280 and 1120 soft tokens
// = 2520 and 10080 patches, passed without scratch: one split) and a 31B image chunk on a sliding
// layer (16 KV heads of 256, window 1024, with scratch): both kernels plan, and every row block's
// splits reach the chunk's end (the kernels clamp last keys to it, so no visible key is left out).
TEST(LaunchGeometry, LastKeyPrefillReachesTheChunkEnd) {
  vk::CoopMatShape unit;
  unit.m = unit.n = unit.k = 16;
  const vk::BufferSlice last{};  // only its presence matters to the plans
  struct Case {
    const char* what;
    AttentionShape s;
    uint32_t T;
    bool scratch;
  };
  std::vector<Case> cases;
  for (uint32_t n : {2520u, 10080u}) {
    AttentionShape s{0, 12, 12, 64, n, 0, 1.f};
    s.last_key = &last;
    cases.push_back({n == 2520 ? "tower, 280 soft tokens" : "tower, 1120 soft tokens", s, n, false});
  }
  AttentionShape slide{3000, 32, 16, 256, 1535, 1024, 1.f};
  slide.last_key = &last;
  cases.push_back({"31b sliding image chunk", slide, 512, true});
  for (const Gpu& g : kGpus) {
    const vk::DeviceCaps caps = Describe(g);
    for (const Case& c : cases) {
      const uint32_t lo = AttentionFirstKey(c.s), end = c.s.start_pos + c.T;
      const AttentionPrefillPlan flash = PlanAttentionPrefill(caps, true, c.s, c.T, 4, c.scratch);
      const AttentionPrefillPlan cm = PlanAttentionPrefillCoopMat(caps, unit, g.subgroup, c.s, c.T, 4, c.scratch);
      const std::string what = std::string(g.name) + " " + c.what;
      ASSERT_TRUE(flash.gpu_kernel) << what;
      ASSERT_TRUE(cm.coopmat) << what;
      for (const AttentionPrefillPlan* p : {&flash, &cm}) {
        EXPECT_GE(uint64_t(p->keys_per_split) * p->splits, uint64_t(end - lo)) << what;
        EXPECT_EQ(p->workgroups, uint64_t(p->row_blocks) * c.s.n_kv_heads * p->splits) << what;
        if (!c.scratch) EXPECT_EQ(p->splits, 1u) << what;
      }
      if (g.compute_units == 132)
        std::printf(
            "  %s: flash %u row blocks x %u KV heads x %u splits = %llu workgroups; matrix units %u x %u x %u "
            "= %llu (BR %u x BC %u)\n",
            c.what, flash.row_blocks, c.s.n_kv_heads, flash.splits, (unsigned long long)flash.workgroups, cm.row_blocks,
            c.s.n_kv_heads, cm.splits, (unsigned long long)cm.workgroups, cm.rows, cm.keys_per_tile);
    }
  }
}

}  // namespace
}  // namespace vkg::test
