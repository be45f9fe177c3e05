// Internal: Hugging Face tokenizer.json with a BPE model (what Gemma checkpoints ship), implemented
// here to give the same ids as the Hugging Face tokenizers library.
#pragma once

#include <memory>
#include <string>

#include "tokenizer/backend.h"

namespace vkg::tok::detail {

std::shared_ptr<const Backend> LoadHfBpe(const std::string& path);

}  // namespace vkg::tok::detail
