// OpenAI's `stop` strings on streamed text (layer: host/serve): the reply ends just before the first
// occurrence of any of them, and a stop string is never sent, not even the start of one. So text
// that could still become a stop string is held back until the next piece decides.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace vkg::serve {

class StopStrings {
 public:
  explicit StopStrings(std::vector<std::string> stops);
  // Adds text; returns the part that is now safe to send. After a stop string is found, returns the
  // text before it and stopped() is true (later pushes return nothing).
  std::string Push(std::string_view text);
  // The text still held back (no stop string completed): the end of the reply.
  std::string Flush();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace vkg::serve
