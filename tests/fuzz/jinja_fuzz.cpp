// libFuzzer target: the Jinja template engine (lexer, parser, interpreter) on arbitrary template
// source, rendered for a fixed conversation.
#include <exception>
#include <string>
#include <vector>

#include "host/text/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto t = vkg::ChatTemplate::FromSource(std::string(reinterpret_cast<const char*>(data), size));
    const std::vector<vkg::ChatMessage> messages = {
        {"system", "Be brief."}, {"user", "Hi {{ x }}"}, {"assistant", "Hello."}, {"user", "Again"}};
    const std::string out = t.Render(messages, {});
    (void)out;
  } catch (const std::exception&) {
  }
  return 0;
}
