// Pipeline creation and the two-level pipeline cache (layer: vk).
#include "vk/pipeline.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <unistd.h>

#include "vk/check.h"
#include "vk/device.h"
#include "vk/spirv_reflect.h"

namespace vkg::vk {

SpecConstants& SpecConstants::Set(uint32_t id, uint32_t value) {
  for (auto& v : values) {
    if (v.first == id) {
      v.second = value;
      return *this;
    }
  }
  values.emplace_back(id, value);
  return *this;
}

SpecConstants& SpecConstants::SetFloat(uint32_t id, float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return Set(id, bits);
}

ComputePipeline::ComputePipeline(const Device& device, const PipelineDesc& desc, VkPipelineCache cache)
    : bindings_(desc.bindings), push_bytes_(desc.push_constant_bytes), name_(desc.name) {
  VKG_CHECK(!desc.spirv.empty(), "pipeline '", desc.name, "' has no SPIR-V");
  VKG_CHECK(desc.push_constant_bytes <= device.caps().max_push_constants, "pipeline '", desc.name, "' needs ",
            desc.push_constant_bytes, " push-constant bytes, device allows ", device.caps().max_push_constants);
  const VkDevice dev = device.handle();
  const SpirvLayout reflected = ReflectSpirv(desc.spirv);
  invocations_ = InvocationsPerWorkgroup(reflected, desc.spec.values);
  binding_read_ = reflected.binding_read;

  VkShaderModuleCreateInfo mi{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  mi.codeSize = desc.spirv.size_bytes();
  mi.pCode = desc.spirv.data();
  VkShaderModule module = VK_NULL_HANDLE;
  VK_CHECK(vkCreateShaderModule(dev, &mi, nullptr, &module));
  module_ = UniqueShaderModule(dev, module);

  std::vector<VkDescriptorSetLayoutBinding> binds;
  for (uint32_t i = 0; i < desc.bindings.size(); ++i) {
    VkDescriptorSetLayoutBinding b{};
    b.binding = i;
    b.descriptorType = desc.bindings[i] == BindingKind::kStorage ? VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                                                                 : VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
    b.descriptorCount = 1;
    b.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
    binds.push_back(b);
  }
  VkDescriptorSetLayoutCreateInfo si{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  si.bindingCount = uint32_t(binds.size());
  si.pBindings = binds.data();
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  VK_CHECK(vkCreateDescriptorSetLayout(dev, &si, nullptr, &set_layout));
  set_layout_ = UniqueSetLayout(dev, set_layout);

  VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, desc.push_constant_bytes};
  VkPipelineLayoutCreateInfo li{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  li.setLayoutCount = 1;
  li.pSetLayouts = &set_layout;
  li.pushConstantRangeCount = desc.push_constant_bytes ? 1 : 0;
  li.pPushConstantRanges = &range;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  VK_CHECK(vkCreatePipelineLayout(dev, &li, nullptr, &layout));
  layout_ = UniquePipelineLayout(dev, layout);

  std::vector<VkSpecializationMapEntry> entries;
  std::vector<uint32_t> data;
  for (const auto& [id, value] : desc.spec.values) {
    entries.push_back({id, uint32_t(data.size() * 4), 4});
    data.push_back(value);
  }
  VkSpecializationInfo spec{uint32_t(entries.size()), entries.data(), data.size() * 4, data.data()};

  VkComputePipelineCreateInfo ci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  ci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = module;
  ci.stage.pName = "main";
  ci.stage.pSpecializationInfo = entries.empty() ? nullptr : &spec;
  ci.layout = layout;
  VkPipeline pipeline = VK_NULL_HANDLE;
  VK_CHECK(vkCreateComputePipelines(dev, cache, 1, &ci, nullptr, &pipeline));
  pipeline_ = UniquePipeline(dev, pipeline);
  device.SetName(VK_OBJECT_TYPE_PIPELINE, uint64_t(pipeline), desc.name);
}

namespace {

std::string CacheDir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/vkgemma";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/vkgemma";
  return {};
}

}  // namespace

PipelineCache::PipelineCache(const Device& device) : device_(device) {
  const char* off = std::getenv("VKGEMMA_NO_DISK_CACHE");
  const std::string dir = (off && *off && std::strcmp(off, "0") != 0) ? std::string() : CacheDir();
  std::vector<char> initial;
  if (!dir.empty()) {
    const auto& c = device.caps();
    char uuid[2 * VK_UUID_SIZE + 1] = {};
    for (unsigned i = 0; i < VK_UUID_SIZE; ++i) std::snprintf(uuid + 2 * i, 3, "%02x", c.device_uuid[i]);
    disk_path_ =
        Concat(dir, "/pipelines-", std::hex, c.vendor_id, "-", c.device_id, "-", c.driver_version, "-", uuid, ".bin");
    std::ifstream in(disk_path_, std::ios::binary);
    if (in) initial.assign(std::istreambuf_iterator<char>(in), {});
  }
  VkPipelineCacheCreateInfo info{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
  info.initialDataSize = initial.size();
  info.pInitialData = initial.empty() ? nullptr : initial.data();
  VkPipelineCache cache = VK_NULL_HANDLE;
  // The driver validates the header (vendor, device, UUID) and ignores data from another driver;
  // a corrupt file is retried empty rather than failing the run.
  if (vkCreatePipelineCache(device.handle(), &info, nullptr, &cache) != VK_SUCCESS) {
    info.initialDataSize = 0;
    info.pInitialData = nullptr;
    VK_CHECK(vkCreatePipelineCache(device.handle(), &info, nullptr, &cache));
  }
  cache_ = UniquePipelineCacheHandle(device.handle(), cache);
}

PipelineCache::~PipelineCache() {
  try {
    Save();
  } catch (...) {
  }
}

void PipelineCache::Save() const {
  if (disk_path_.empty() || pipelines_.empty()) return;
  size_t size = 0;
  if (vkGetPipelineCacheData(device_.handle(), cache_.get(), &size, nullptr) != VK_SUCCESS) return;
  std::vector<char> data(size);
  if (vkGetPipelineCacheData(device_.handle(), cache_.get(), &size, data.data()) != VK_SUCCESS) return;
  std::error_code ec;
  const std::filesystem::path path(disk_path_);
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return;
  // Write a private temporary file, then rename: concurrent runs never see a half-written cache.
  const std::string tmp = Concat(disk_path_, ".tmp.", ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return;
    out.write(data.data(), std::streamsize(size));
    if (!out) return;
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

const ComputePipeline& PipelineCache::Get(const PipelineDesc& desc) {
  Key key{desc.spirv.data(), desc.spec};
  auto it = pipelines_.find(key);
  if (it != pipelines_.end()) return *it->second;
  auto p = std::make_unique<ComputePipeline>(device_, desc, cache_.get());
  return *pipelines_.emplace(std::move(key), std::move(p)).first->second;
}

}  // namespace vkg::vk
