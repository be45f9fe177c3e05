// The shader compiler the build chose (cmake/glslang.cmake) is reported consistently: the facts
// compiled into vkg_shaders match what that compiler does now with the probe shaders, and the
// build's compile-only checks exist exactly for the families it claims, with the SPIR-V
// capability that family needs.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "shaders/shader_compiler.h"

namespace {

struct CommandResult {
  int status;
  std::string out;
};

CommandResult RunCommand(const std::string& cmd) {
  CommandResult r{-1, ""};
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  r.status = pclose(p);
  return r;
}

bool Compiles(const std::string& probe) {
  std::string out = std::string(VKG_BINARY_DIR) + "/toolchain-test-" + probe + ".spv";
  CommandResult r =
      RunCommand("'" + std::string(vkg::shaders::Compiler().path) + "' --target-env vulkan1.2 -S comp -o '" + out +
                 "' '" VKG_SOURCE_DIR "/shaders/probe/" + probe + ".comp'");
  std::remove(out.c_str());
  return r.status == 0;
}

// The words of a SPIR-V file; empty when it does not exist.
std::vector<uint32_t> ReadSpirv(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<uint32_t> words(bytes.size() / 4);
  for (size_t i = 0; i < words.size(); ++i) words[i] = reinterpret_cast<const uint32_t*>(bytes.data())[i];
  return words;
}

// Whether the module declares OpCapability `cap` (opcode 17, two words), scanning instructions.
bool HasCapability(const std::vector<uint32_t>& spirv, uint32_t cap) {
  for (size_t i = 5; i < spirv.size();) {
    uint32_t count = spirv[i] >> 16, opcode = spirv[i] & 0xffff;
    if (count == 0) return false;
    if (opcode == 17 && count == 2 && i + 1 < spirv.size() && spirv[i + 1] == cap) return true;
    i += count;
  }
  return false;
}

constexpr uint32_t kCapabilityCooperativeMatrixKHR = 6022;
constexpr uint32_t kCapabilityDotProduct = 6019;

TEST(ShaderCompiler, VersionIsTheChosenCompilers) {
  const auto& c = vkg::shaders::Compiler();
  CommandResult r = RunCommand("'" + std::string(c.path) + "' --version");
  ASSERT_EQ(r.status, 0) << c.path << ": " << r.out;
  EXPECT_NE(r.out.find(std::string(":") + c.version + "\n"), std::string::npos) << r.out;
}

TEST(ShaderCompiler, CapabilitiesMatchTheCompiler) {
  const auto& c = vkg::shaders::Compiler();
  EXPECT_EQ(Compiles("cooperative_matrix"), c.cooperative_matrix) << c.path << " " << c.version;
  EXPECT_EQ(Compiles("integer_dot"), c.integer_dot_product) << c.path << " " << c.version;
  EXPECT_EQ(VKG_SHADERS_COOPMAT != 0, c.cooperative_matrix);
  EXPECT_EQ(VKG_SHADERS_INTEGER_DOT != 0, c.integer_dot_product);
}

TEST(ShaderCompiler, CompileChecksExistForTheClaimedFamilies) {
  const auto& c = vkg::shaders::Compiler();
  std::string dir = std::string(VKG_BINARY_DIR) + "/shaders/spirv/check/";
  auto coopmat = ReadSpirv(dir + "cooperative_matrix.spv");
  auto dot = ReadSpirv(dir + "integer_dot.spv");
  EXPECT_EQ(!coopmat.empty(), c.cooperative_matrix);
  EXPECT_EQ(!dot.empty(), c.integer_dot_product);
  EXPECT_EQ(HasCapability(coopmat, kCapabilityCooperativeMatrixKHR), c.cooperative_matrix);
  EXPECT_EQ(HasCapability(dot, kCapabilityDotProduct), c.integer_dot_product);
}

}  // namespace
