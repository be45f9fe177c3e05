// `vkgemma devices [--json]`: every Vulkan device with the capabilities vkgemma cares about;
// `--bandwidth`: one device's measured read and copy bandwidth instead (host/device/bandwidth.h).
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "host/device/bandwidth.h"
#include "host/device/gpu_context.h"
#include "host/ops/plans/kernel_choice.h"
#include "tools/cli/commands.h"
#include "vk/device.h"
#include "vk/instance.h"

namespace vkg::cli {
namespace {

constexpr const char* kHelp =
    "usage: vkgemma devices [--json] [--bandwidth [--device D]]\n"
    "Lists every Vulkan device in vkgemma's default order (discrete GPU, integrated, virtual, CPU).\n"
    "The index or a name substring selects a device elsewhere (--device N|NAME, VKGEMMA_DEVICE).\n"
    "  --json        one JSON object {\"devices\": [...]} instead of the table\n"
    "  --bandwidth   instead of the list, measure one device's memory bandwidth: the read bandwidth\n"
    "                of a compute kernel streaming min(1 GiB, heap/4) with 16-byte loads (storage\n"
    "                and texel; the better is the yardstick of `bench`) and vkCmdCopyBuffer's\n"
    "  --device D    the device to measure (default: VKGEMMA_DEVICE, else the first)\n";

std::string MiB(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

// The kernel each op kind runs on this device by default, for q4_0 weights (what bench measures;
// other formats differ only in the integer-dot products, which serve q8_0 / q4_0).
nlohmann::json KernelsByOp(const vk::DeviceCaps& c) {
  nlohmann::json j = nlohmann::json::object();
  for (const OpKernel& k : DescribeKernels(c, KernelFamily::kDevice, {}, DType::Q4_0)) j[k.op] = k.kernel;
  return j;
}

nlohmann::json ToJson(size_t index, const vk::DeviceCaps& c) {
  nlohmann::json heaps = nlohmann::json::array();
  for (const auto& h : c.heaps) heaps.push_back({{"bytes", h.size}, {"device_local", h.device_local}});
  nlohmann::json shapes = nlohmann::json::array();  // every listed shape, as the driver lists them
  for (const auto& s : c.coopmat_shapes) shapes.push_back(s.ToString());
  return {{"index", index},
          {"name", c.name},
          {"type", c.type_name},
          {"vendor", c.vendor},
          {"vendor_id", c.vendor_id},
          {"device_id", c.device_id},
          {"driver", c.driver_name},
          {"driver_info", c.driver_info},
          {"driver_version", c.driver_version_string},
          {"api_version", c.api_version_string},
          {"subgroup_size", c.subgroup_size},
          {"min_subgroup_size", c.min_subgroup_size},
          {"max_subgroup_size", c.max_subgroup_size},
          {"compute_units", c.compute_units},           // 0: the driver does not tell
          {"planned_compute_units", c.ComputeUnits()},  // what the kernel plans assume
          {"kernel_family", c.type == VK_PHYSICAL_DEVICE_TYPE_CPU ? "cpu" : "gpu"},
          {"kernels_by_op", KernelsByOp(c)},
          {"fp16", c.fp16},
          {"int8", c.int8},
          {"integer_dot_product", c.integer_dot_product},    // accelerated 4x8-bit packed signed
          {"integer_dot_supported", c.integer_dot_feature},  // the shader feature, accelerated or not
          {"cooperative_matrix", c.cooperative_matrix},
          {"cooperative_matrix_shapes", shapes},
          // the f16 x f16 -> f32 subgroup unit the prefill products use; "" = none usable
          {"cooperative_matrix_f16_unit", c.HasCoopMatF16() ? c.coopmat_f16.ToString() : std::string()},
          {"max_storage_buffer_range", c.max_storage_buffer_range},
          {"max_memory_allocation", c.max_memory_allocation},
          {"max_texel_buffer_elements", c.max_texel_buffer_elements},
          {"max_push_constants", c.max_push_constants},
          {"timestamps", c.timestamps},
          {"heaps", heaps}};
}

// `devices --bandwidth`: the yardstick alone, 5 passes of each kernel (medians).
int Bandwidth(const std::string& device, bool json) {
  GpuContext gpu(GpuOptions{device, false});
  const ReadBandwidth r = MeasureReadBandwidth(gpu, 5);
  const CopyBandwidth c = MeasureCopyBandwidth(gpu, 5);
  const auto& caps = gpu.device().caps();
  if (json) {
    const nlohmann::json out = {{"device", caps.name},
                                {"device_type", caps.type_name},
                                {"driver", caps.driver_name + " " + caps.driver_info},
                                {"read_bandwidth",
                                 {{"gbps", r.gbps},
                                  {"kernel", r.method},
                                  {"storage_gbps", r.storage_gbps},
                                  {"texel_gbps", r.texel_gbps},
                                  {"median_ms", r.median_ms},
                                  {"buffer_bytes", r.bytes},
                                  {"ranges", r.ranges},
                                  {"reps", r.reps},
                                  {"counted", "read"}}},
                                {"copy_bandwidth",
                                 {{"gbps", c.gbps},
                                  {"median_ms", c.median_ms},
                                  {"buffer_bytes", c.bytes},
                                  {"reps", c.reps},
                                  {"counted", "read+write"}}},
                                {"validation_messages", gpu.instance().validation_message_count()}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("device  %s (%s), driver %s %s\n", caps.name.c_str(), caps.type_name.c_str(), caps.driver_name.c_str(),
              caps.driver_info.c_str());
  std::printf("read    %.1f GB/s (%s loads; storage %.1f, texel %.1f GB/s; %.0f MiB in %u ranges, median of %d)\n",
              r.gbps, r.method.c_str(), r.storage_gbps, r.texel_gbps, double(r.bytes) / 1048576.0, r.ranges, r.reps);
  std::printf("copy    %.1f GB/s (vkCmdCopyBuffer %.0f MiB, counted read+write, median of %d)\n", c.gbps,
              double(c.bytes) / 1048576.0, c.reps);
  return 0;
}

}  // namespace

int Devices(const std::vector<std::string>& args) {
  bool json = false, bandwidth = false;
  std::string device;
  bool device_set = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") {
      json = true;
    } else if (a == "--bandwidth") {
      bandwidth = true;
    } else if (a == "--device") {
      if (i + 1 >= args.size()) throw UsageError("--device needs a value");
      device = args[++i];
      device_set = true;
    } else if (a == "--help" || a == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    } else {
      throw UsageError("unknown option '" + a + "' for devices");
    }
  }
  if (device_set && !bandwidth) throw UsageError("--device applies to devices --bandwidth only");
  if (bandwidth) return Bandwidth(device, json);
  vk::Instance instance(vk::Instance::OptionsFromEnv());
  const auto devices = vk::ListDevices(instance);
  if (json) {
    nlohmann::json out = {{"devices", nlohmann::json::array()}};
    for (size_t i = 0; i < devices.size(); ++i) out["devices"].push_back(ToJson(i, devices[i].caps));
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  if (devices.empty()) {
    std::printf("no Vulkan 1.2 devices found\n");
    return 0;
  }
  for (size_t i = 0; i < devices.size(); ++i) {
    const auto& c = devices[i].caps;
    const auto yn = [](bool b) { return b ? "yes" : "no"; };
    std::printf("[%zu] %s\n", i, c.name.c_str());
    std::printf("    type %s, vendor %s (0x%04x), driver %s %s, Vulkan %s\n", c.type_name.c_str(), c.vendor.c_str(),
                c.vendor_id, c.driver_name.c_str(),
                c.driver_info.empty() ? c.driver_version_string.c_str() : c.driver_info.c_str(),
                c.api_version_string.c_str());
    // int dot: "accelerated" (kAuto takes the int8-activation products), "supported" (the feature
    // without acceleration: only forced), or "no".
    const char* int_dot = c.integer_dot_product ? "accelerated" : c.integer_dot_feature ? "supported" : "no";
    std::printf("    subgroup %u (%u..%u), fp16 %s, int8 %s, int dot %s, coop matrix %s, timestamps %s\n",
                c.subgroup_size, c.min_subgroup_size, c.max_subgroup_size, yn(c.fp16), yn(c.int8), int_dot,
                yn(c.cooperative_matrix), yn(c.timestamps));
    if (c.compute_units)
      std::printf("    compute units %u, kernels: %s family\n", c.compute_units,
                  c.type == VK_PHYSICAL_DEVICE_TYPE_CPU ? "CPU" : "GPU");
    else
      std::printf("    compute units not reported (kernels plan for %u), kernels: %s family\n", c.ComputeUnits(),
                  c.type == VK_PHYSICAL_DEVICE_TYPE_CPU ? "CPU" : "GPU");
    std::string f16_shapes;  // the f16 x f16 -> f32 subgroup shapes the prefill products may use
    for (const auto& s : c.coopmat_shapes) {
      if (!s.IsF16F32Subgroup()) continue;
      f16_shapes += (f16_shapes.empty() ? "" : ", ") + std::to_string(s.m) + "x" + std::to_string(s.n) + "x" +
                    std::to_string(s.k);
    }
    if (!c.coopmat_shapes.empty())
      std::printf(
          "    coop matrix f16*f16->f32 subgroup shapes: %s; prefill products use %s\n",
          f16_shapes.empty() ? "none" : f16_shapes.c_str(),
          c.HasCoopMatF16() ? c.coopmat_f16.ToString().c_str() : "none (needs shaderFloat16 + vulkanMemoryModel)");
    std::printf("    kernels by op (q4_0 weights):\n");
    for (const OpKernel& k : DescribeKernels(c, KernelFamily::kDevice, {}, DType::Q4_0))
      std::printf("      %-18s %s\n", k.op.c_str(), k.kernel.c_str());
    std::printf("    max storage range %s, max allocation %s, max texels %u, push constants %u B\n",
                MiB(c.max_storage_buffer_range).c_str(), MiB(c.max_memory_allocation).c_str(),
                c.max_texel_buffer_elements, c.max_push_constants);
    std::printf("    heaps:");
    for (const auto& h : c.heaps) std::printf(" %s%s", MiB(h.size).c_str(), h.device_local ? " (device-local)" : "");
    std::printf("\n");
  }
  return 0;
}

}  // namespace vkg::cli
