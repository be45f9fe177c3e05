// Launch geometry of the integer-dot products (host/ops/plans/matmul_int8_plan.h) at the real E2B and
// 31B shapes on described GPUs (no device needed), with the bounds of launch_geometry_test.cpp:
// - decode (matvec_int8.comp): a product reading over 1 MB launches at least 4 workgroups per
//   compute unit (the same counts as the float matvec.comp, whose plan it shares), no lane reads
//   more than 4 KiB of one weight row, at least 2 independent 16-byte weight loads per lane;
// - prefill (matmul_int8_tiled.comp) on a 512-token chunk: a product with over 1 MB of weights
//   launches at least 2 workgroups of 256 invocations per compute unit.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "host/model/shapes.h"
#include "host/ops/plans/matmul_int8_plan.h"

namespace vkg::test {
namespace {

vk::DeviceCaps Describe(uint32_t compute_units, uint32_t subgroup) {
  vk::DeviceCaps c;
  c.type = VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
  c.compute_units = compute_units;
  c.subgroup_size = c.min_subgroup_size = c.max_subgroup_size = subgroup;
  c.max_workgroup_invocations = 1024;
  c.max_shared_memory = 48 * 1024;
  c.integer_dot_feature = c.integer_dot_product = true;
  return c;
}

struct Product {
  std::string name;
  uint64_t rows;
  uint32_t cols;
  bool gelu_pairs = false;  // the [gate | up] stack: decode plans rows / 2 outputs of 2 rows each
};

// Every product of a model as host/runtime/forward.cpp stacks them (layer 0 sliding, the first full layer).
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
      out.push_back({at + "gate_up", 2 * uint64_t(li.ffn_dim), H, true});
      out.push_back({at + "down", H, uint32_t(li.ffn_dim)});
    }
  }
  if (c.has_ple()) {
    const uint32_t P = uint32_t(c.hidden_size_per_layer_input);
    out.push_back({"ple model projection", uint64_t(c.num_hidden_layers) * P, H});
    out.push_back({"ple gate", P, H});
  }
  out.push_back({"head", uint64_t(c.vocab_size), H});
  return out;
}

uint32_t Padded(uint32_t cols) { return (cols + 31) / 32 * 32; }
constexpr uint64_t kMiB = uint64_t(1) << 20;

TEST(LaunchGeometryInt8, DecodeFillsTheGpuWithBoundedRows) {
  for (const auto& [cus, sg] : {std::pair{132u, 32u}, {96u, 64u}, {0u, 32u}}) {
    const vk::DeviceCaps caps = Describe(cus, sg);
    for (const char* model : {"e2b", "31b"}) {
      for (DType t : {DType::Q8_0, DType::Q4_0}) {
        for (const Product& p : Products(ShapeConfig(model))) {
          const uint64_t outputs = p.gelu_pairs ? p.rows / 2 : p.rows;
          const MatVecPlan plan = PlanMatVecInt8(caps, t, outputs, Padded(p.cols));
          const MatVecPlan flt = PlanMatVec(caps, true, t, outputs, Padded(p.cols));
          const std::string what =
              std::to_string(cus) + " CUs " + model + " " + std::string(DTypeName(t)) + " " + p.name;
          EXPECT_EQ(plan.workgroups, flt.workgroups) << what;
          EXPECT_EQ(plan.workgroup, flt.workgroup) << what;
          if (plan.bytes_read > kMiB) {
            EXPECT_GE(plan.workgroups, 4u * caps.ComputeUnits()) << what;
          }
          EXPECT_LE(plan.serial_row_bytes, 4096u) << what;
          EXPECT_GE(plan.loads_in_flight, 2u) << what;
        }
      }
    }
  }
}

// The numbers the shader headers quote, on a 132-SM GPU with subgroup 32.
TEST(LaunchGeometryInt8, PinnedOnH200) {
  const vk::DeviceCaps h200 = Describe(132, 32);
  struct Pin {
    DType t;
    uint64_t rows;
    uint32_t cols;
    uint32_t rows_per_subgroup, workgroup;
    uint64_t workgroups, serial_row_bytes;
  };
  // E2B o_proj (1536 rows, K = 2048); E2B down (K = 6144); 31B qkv of a sliding layer
  // (32 x 256 + 2 x 16 x 256 = 16384 rows, K = 5376); 31B down (5376 rows, K = 21504); the head.
  const Pin pins[] = {
      {DType::Q4_0, 1536, 2048, 1, 64, 768, 32},    {DType::Q8_0, 1536, 6144, 1, 64, 768, 192},
      {DType::Q4_0, 16384, 5376, 4, 128, 1024, 96}, {DType::Q8_0, 5376, 21504, 2, 128, 672, 672},
      {DType::Q4_0, 5376, 21504, 2, 128, 672, 336}, {DType::Q4_0, 262144, 1536, 4, 128, 16384, 32},
  };
  for (const Pin& p : pins) {
    const MatVecPlan plan = PlanMatVecInt8(h200, p.t, p.rows, p.cols);
    const std::string what = std::string(DTypeName(p.t)) + " " + std::to_string(p.rows) + "x" + std::to_string(p.cols);
    EXPECT_EQ(plan.rows_per_subgroup, p.rows_per_subgroup) << what;
    EXPECT_EQ(plan.workgroup, p.workgroup) << what;
    EXPECT_EQ(plan.workgroups, p.workgroups) << what;
    EXPECT_EQ(plan.serial_row_bytes, p.serial_row_bytes) << what;
    EXPECT_EQ(plan.loads_in_flight, 2 * p.rows_per_subgroup) << what;
  }
  // Prefill, 512 tokens: E2B o_proj 24 x 16 tiles, 31B down 84 x 16, 31B qkv 256 x 16.
  EXPECT_EQ(PlanMatMulInt8(1536, 512, 2048).workgroups, 384u);
  EXPECT_EQ(PlanMatMulInt8(5376, 512, 21504).workgroups, 1344u);
  EXPECT_EQ(PlanMatMulInt8(5376, 512, 21504).steps, 336u);
  EXPECT_EQ(PlanMatMulInt8(16384, 512, 5376).workgroups, 4096u);
  EXPECT_EQ(PlanMatMulInt8(1536, 64, 1536).workgroups, 48u);  // the default 64-token chunk: 2 tiles of tokens
}

TEST(LaunchGeometryInt8, PrefillFillsTheGpuAt512Tokens) {
  constexpr uint32_t kCus = 132;
  for (const char* model : {"e2b", "31b"}) {
    uint64_t fewest = ~uint64_t(0);
    for (const Product& p : Products(ShapeConfig(model))) {
      const MatMulInt8Plan plan = PlanMatMulInt8(p.rows, 512, Padded(p.cols));
      const uint64_t weight_bytes = p.rows * Padded(p.cols) * 18 / 32;  // q4_0, the smaller
      if (weight_bytes <= kMiB) continue;
      EXPECT_GE(plan.workgroups, 2u * kCus) << model << " " << p.name;
      fewest = std::min(fewest, plan.workgroups);
    }
    std::printf("  %s: fewest workgroups of a >1 MB prefill product at 512 tokens %llu\n", model,
                (unsigned long long)fewest);
  }
}

}  // namespace
}  // namespace vkg::test
