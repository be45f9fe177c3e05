// Internal: Hugging Face tokenizer.json with a BPE model (what Gemma checkpoints ship), implemented
// here to give the same ids as the Hugging Face tokenizers library.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/backend.h"

namespace vkg::tok::detail {

std::shared_ptr<const Backend> LoadHfBpe(const std::string& path);
// The same from a parsed document; `name` stands for the file in errors and path().
std::shared_ptr<const Backend> LoadHfBpeJson(const std::string& name, const nlohmann::json& root);

}  // namespace vkg::tok::detail
