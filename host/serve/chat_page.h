// The chat page served at `/` (layer: host/serve): one static HTML + JavaScript page, embedded in
// the binary, no build step and nothing loaded from elsewhere. It streams replies from
// /v1/chat/completions. `/?prompt=TEXT` sends TEXT at load (optional max_tokens, temperature and
// seed parameters), and the page's <body data-state> is "done" once the reply is complete: what the
// headless-browser test reads.
#pragma once
#include <string_view>

namespace vkg::serve {

std::string_view ChatPageHtml();

}  // namespace vkg::serve
