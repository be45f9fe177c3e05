// Images with a GGUF text model and llama.cpp's separate projector GGUF (--mmproj, gemma4v): the
// multimodal fixtures (tests/data/gemma4-mm, made by Hugging Face's code) converted by
// vkg_make_checkpoint --from (text GGUF + mmproj, f32: the bf16 values exactly, the patch
// embedding as a conv kernel) give HF's logits within 1e-3 at every position on the Vulkan device
// and on the CPU reference; a broken or mismatched projector is one error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "host/error.h"
#include "host/model/checkpoint.h"
#include "host/runtime/engine.h"
#include "tests/mm_fixture.h"
#include "tests/model/test_helpers.h"
#include "tests/test_util.h"

namespace vkg::test {
namespace {

struct Converted {
  std::filesystem::path gguf, mmproj;
};

// The fixture as a text GGUF and an mmproj (f32), in `dir`.
Converted Convert(const MmFixture& f, const TempDir& dir) {
  Converted c{dir.path() / "model.gguf", dir.path() / "mmproj.gguf"};
  EXPECT_EQ(
      RunMakeCheckpoint("--from " + f.dir.string() + " --gguf " + c.gguf.string() + " --mmproj " + c.mmproj.string()),
      0);
  return c;
}

float WorstRow(const std::vector<float>& got, const MmFixture& f) {
  EXPECT_EQ(got.size(), f.logits.size());
  float worst = 0.f;
  for (size_t i = 0; i < std::min(got.size(), f.logits.size()); ++i)
    worst = std::max(worst, std::fabs(got[i] - f.logits[i]));
  return worst;
}

class VisionGgufTest : public ::testing::TestWithParam<const char*> {};

TEST_P(VisionGgufTest, MmprojLogitsMatchHuggingFace) {
  const MmFixture f = LoadMmFixture(GetParam());
  TempDir dir(std::string("vision_gguf_") + GetParam());
  const Converted c = Convert(f, dir);
  // The projector's tower is the checkpoint's: same config, ids from the vocabulary.
  const ModelConfig hf = Checkpoint::LoadConfigOf(f.dir);
  const ModelConfig gg = Checkpoint::LoadConfigOf(c.gguf, c.mmproj);
  ASSERT_TRUE(gg.mm.has_vision);
  EXPECT_EQ(gg.mm.image_token_id, hf.mm.image_token_id);
  EXPECT_EQ(gg.mm.boi_token_id, hf.mm.boi_token_id);
  EXPECT_EQ(gg.mm.eoi_token_id, hf.mm.eoi_token_id);
  EXPECT_EQ(gg.mm.bidirectional_vision, hf.mm.bidirectional_vision);
  EXPECT_EQ(gg.mm.vision.hidden_size, hf.mm.vision.hidden_size);
  EXPECT_EQ(gg.mm.vision.head_dim, hf.mm.vision.head_dim);
  EXPECT_EQ(gg.mm.vision.position_embedding_size, hf.mm.vision.position_embedding_size);
  EXPECT_EQ(gg.mm.vision.use_clipped_linears, hf.mm.vision.use_clipped_linears);
  EXPECT_EQ(gg.mm.vision.standardize, hf.mm.vision.standardize);
  for (const char* device : {"", "cpu"}) {
    EngineOptions o;
    o.device = device;
    o.mmproj = c.mmproj.string();
    o.kv_dtype = DType::F32;
    o.validation = true;
    auto engine = Engine::Open(c.gguf.string(), o);
    const float worst = WorstRow(engine->ForwardWithImages(f.tokens, true, f.images), f);
    std::printf("[ measured ] %s GGUF + mmproj on %s: logits max abs vs HF %.3g\n", GetParam(),
                engine->device_name().c_str(), worst);
    EXPECT_LE(worst, 1e-3f) << (*device ? device : "device");
    EXPECT_EQ(engine->validation_messages(), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, VisionGgufTest, ::testing::Values("ple-vision", "dense-vision-bidir"),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// A projector that is missing, another file type, truncated, of another model, or named with an
// HF checkpoint: one vkg::Error line each, before any weight is uploaded.
TEST(VisionGgufErrorsTest, RefusesBadProjectors) {
  const MmFixture f = LoadMmFixture("dense-vision-bidir");
  TempDir dir("vision_gguf_errors");
  const Converted c = Convert(f, dir);
  auto message = [](const std::filesystem::path& model, const std::filesystem::path& mmproj) -> std::string {
    try {
      Checkpoint::Load(model, mmproj);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  const std::string missing = (dir.path() / "none.gguf").string();
  EXPECT_NE(message(c.gguf, missing).find(missing), std::string::npos) << message(c.gguf, missing);
  EXPECT_EQ(message(c.gguf, c.gguf),
            c.gguf.filename().string() + ": general.architecture is \"gemma4\", expected \"clip\" (an mmproj file)");
  // Truncated: the reader refuses it naming the file.
  {
    std::ifstream in(c.mmproj, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(dir.path() / "cut.gguf", std::ios::binary).write(bytes.data(), std::streamsize(bytes.size() / 2));
  }
  const std::string cut = message(c.gguf, dir.path() / "cut.gguf");
  EXPECT_NE(cut.find("cut.gguf"), std::string::npos) << cut;
  EXPECT_EQ(cut.find('\n'), std::string::npos) << cut;
  // Another model's projector: ple-vision's text model is wider than... the same width here, so a
  // projector of a different width is made by converting a generated checkpoint of hidden 128.
  const std::filesystem::path other = dir.path() / "other";
  ASSERT_EQ(RunMakeCheckpoint("--out " + other.string() + " --variant dense --hidden 128 --gguf " +
                              (dir.path() / "other.gguf").string()),
            0);
  EXPECT_EQ(message(dir.path() / "other.gguf", c.mmproj),
            "mmproj.gguf: clip.vision.projection_dim 64 does not match the text model's hidden size 128 (a "
            "projector of another model?)");
  EXPECT_EQ(message(f.dir, c.mmproj), "--mmproj " + c.mmproj.string() +
                                          ": a projector file goes with a GGUF text model; " + f.dir.string() +
                                          " is a Hugging Face checkpoint, whose vision tower is in its own files");
}

}  // namespace
}  // namespace vkg::test
