// The tokenizer of a model path: a checkpoint directory's tokenizer.json / tokenizer.model, or a
// GGUF file's tokenizer.ggml.* vocabulary (layer: host/text).
//
// llama.cpp's converter stores Gemma 4's Hugging Face BPE tokenizer as tokenizer.ggml.model
// "gemma4": tokens (one per id), token_type (1 normal, 2 unknown, 3 control = a special added
// token, 4 user-defined = a non-special added token, 6 byte), merges ("left right"), scores
// (unused by BPE) and the special ids. We rebuild the tokenizer.json document that gives the same
// tokenizer (Gemma's normalizer, pre-tokenizer and decoder, which the converter does not store
// because they are fixed for the model type) and load it with the same BPE code.
#pragma once
#include <filesystem>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/tokenizer.h"

namespace vkg {

class GgufFile;

// Throws vkg::Error naming the file for a missing or inconsistent vocabulary, or a tokenizer model
// other than "gemma4".
nlohmann::json GgufTokenizerJson(const GgufFile& file);

// Tokenizer::Load(dir) for a directory; for a .gguf path (IsGgufPath), the file's vocabulary.
tok::Tokenizer LoadModelTokenizer(const std::filesystem::path& model);

}  // namespace vkg
