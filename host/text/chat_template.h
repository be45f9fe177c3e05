// Chat prompts: the checkpoint's own chat template rendered for a conversation, and its token ids
// (layer: host/text). Template markup (<bos>, <|turn>, ...) becomes special-token ids; message text never
// does, so a user typing "<|turn>" gets ordinary text tokens.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace vkg {

// One piece of a message given as parts: text, or an image or audio clip whose place the template
// marks (Gemma 4's template writes "\n\n<|image|>\n\n" and "<|audio|>"; the caller expands that
// token into the soft tokens: host/image ExpandImagePlaceholders, host/audio ExpandAudioPlaceholders).
struct ContentPart {
  enum class Kind { kText, kImage, kAudio };
  Kind kind = Kind::kText;
  std::string text;  // kText only
};

struct ChatMessage {
  std::string role;  // "system", "user", "model" ("assistant" is accepted as "model")
  std::string content;
  // When not empty, the message is these parts in order (content is then ignored); templates see
  // content as a list [{"type": "text", "text": ...}, {"type": "image"}], as in Hugging Face's
  // apply_chat_template
  // ({"type": "audio"} for an audio clip).
  std::vector<ContentPart> parts;
};

struct ChatOptions {
  bool add_generation_prompt = true;  // end with the opening of the model's turn
  bool enable_thinking = false;       // Gemma 4 thinking mode (<|think|> in the system turn)
  // Encode: when >= 0, the markup "<|image|>" (an image's place) becomes this id whether or not the
  // tokenizer lists it (config.json's image_token_id; small test vocabularies remap it).
  int32_t image_token_id = -1;
  // The same for "<|audio|>" (config.json's audio_token_id).
  int32_t audio_token_id = -1;
};

class ChatTemplate {
 public:
  // The checkpoint's template: chat_template.jinja, else tokenizer_config.json's "chat_template",
  // else the built-in Gemma 4 turn format (docs/model.md §4); for a GGUF file, its
  // tokenizer.chat_template, else the built-in one. Throws on a malformed file.
  static ChatTemplate Load(const std::filesystem::path& model_dir);
  // A Jinja template source (the subset chat templates use).
  static ChatTemplate FromSource(std::string source);
  static ChatTemplate BuiltinGemma4();

  // The prompt as text, special tokens written as their text.
  std::string Render(std::span<const ChatMessage> messages, const ChatOptions& options) const;
  // The prompt as ids: template text is tokenized with special tokens recognised, message contents
  // as text (tok::SpecialTokens::kAsText: a special token's string typed in a message stays text).
  std::vector<int32_t> Encode(const tok::Tokenizer& tokenizer, std::span<const ChatMessage> messages,
                              const ChatOptions& options) const;

  const std::string& source() const;

  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;
  ~ChatTemplate();

 private:
  struct Impl;
  explicit ChatTemplate(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vkg
