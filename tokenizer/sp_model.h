// Internal: SentencePiece .model files through libsentencepiece.
#pragma once

#include <memory>
#include <string>

#include "tokenizer/backend.h"

namespace vkg::tok::detail {

std::shared_ptr<const Backend> LoadSentencePiece(const std::string& path);

}  // namespace vkg::tok::detail
