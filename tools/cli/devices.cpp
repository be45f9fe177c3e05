// `vkgemma devices [--json]`: every Vulkan device with the capabilities vkgemma cares about.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "tools/cli/commands.h"
#include "vk/device.h"
#include "vk/instance.h"

namespace vkg::cli {
namespace {

constexpr const char* kHelp =
    "usage: vkgemma devices [--json]\n"
    "Lists every Vulkan device in vkgemma's default order (discrete GPU, integrated, virtual, CPU).\n"
    "The index or a name substring selects a device elsewhere (--device N|NAME, VKGEMMA_DEVICE).\n"
    "  --json   one JSON object {\"devices\": [...]} instead of the table\n";

std::string MiB(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

nlohmann::json ToJson(size_t index, const vk::DeviceCaps& c) {
  nlohmann::json heaps = nlohmann::json::array();
  for (const auto& h : c.heaps) heaps.push_back({{"bytes", h.size}, {"device_local", h.device_local}});
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
          {"fp16", c.fp16},
          {"int8", c.int8},
          {"integer_dot_product", c.integer_dot_product},
          {"cooperative_matrix", c.cooperative_matrix},
          {"max_storage_buffer_range", c.max_storage_buffer_range},
          {"max_memory_allocation", c.max_memory_allocation},
          {"max_texel_buffer_elements", c.max_texel_buffer_elements},
          {"max_push_constants", c.max_push_constants},
          {"timestamps", c.timestamps},
          {"heaps", heaps}};
}

}  // namespace

int Devices(const std::vector<std::string>& args) {
  bool json = false;
  for (const auto& a : args) {
    if (a == "--json") {
      json = true;
    } else if (a == "--help" || a == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    } else {
      throw UsageError("unknown option '" + a + "' for devices");
    }
  }
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
    std::printf("    type %s, vendor %s (0x%04x), driver %s %s, Vulkan %s\n", c.type_name.c_str(),
                c.vendor.c_str(), c.vendor_id, c.driver_name.c_str(),
                c.driver_info.empty() ? c.driver_version_string.c_str() : c.driver_info.c_str(),
                c.api_version_string.c_str());
    std::printf("    subgroup %u (%u..%u), fp16 %s, int8 %s, int dot %s, coop matrix %s, timestamps %s\n",
                c.subgroup_size, c.min_subgroup_size, c.max_subgroup_size, yn(c.fp16), yn(c.int8),
                yn(c.integer_dot_product), yn(c.cooperative_matrix), yn(c.timestamps));
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
