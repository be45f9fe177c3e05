// Chat templates through vkg::jinja. Encode keeps message text out of special-token matching with
// taint tracking instead of sentinels: each message content goes into the template as a string
// whose bytes are marked "tainted", and the interpreter carries the marks through the string
// operations templates apply to content (trim, split, slicing, concatenation, replace, ...), so the
// rendering says byte by byte what came from a message. Sentinels would not survive those
// operations: Gemma 4's template trims content and strips <|channel>...<channel|> thinking from
// model turns, so a sentinel would come out untrimmed and unstripped.
// Roles are passed to the template as given; the built-in template renders "assistant" as "model"
// (as Gemma 4's own template does).
#include "host/text/chat_template.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "host/model/gguf/gguf_file.h"
#include "host/text/jinja/template.h"

namespace vkg {
namespace {

// Own text, rendering the turn format of docs/model.md §4 (large-model variant: thinking
// off pre-fills an empty thought channel; thinking on writes "<|think|>\n" first in the system turn).
// Content given as parts renders as Gemma 4's own template renders it: text trimmed, an image as
// "\n\n<|image|>\n\n", an audio clip as "<|audio|>" (no blank lines: Gemma 4's released template).
constexpr const char* kGemma4Template = R"TPL({#- vkgemma built-in Gemma 4 chat template -#}
{%- macro without_thinking(text) -%}
    {%- set acc = namespace(text='') -%}
    {%- for piece in text.split('<channel|>') -%}
        {%- set acc.text = acc.text ~ (piece.split('<|channel>')[0] if '<|channel>' in piece else piece) -%}
    {%- endfor -%}
    {{- acc.text | trim -}}
{%- endmacro -%}
{%- macro render_content(content) -%}
    {%- if content is string -%}
        {{- content | trim -}}
    {%- else -%}
        {%- for item in content -%}
            {%- if item['type'] == 'text' -%}
                {{- item['text'] | trim -}}
            {%- elif item['type'] == 'image' -%}
                {{- '\n\n<|image|>\n\n' -}}
            {%- elif item['type'] == 'audio' -%}
                {{- '<|audio|>' -}}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro -%}
{{- bos_token -}}
{%- set history = messages -%}
{%- set has_system = messages | length > 0 and messages[0].role in ['system', 'developer'] -%}
{%- if enable_thinking or has_system -%}
    {{- '<|turn>system\n' -}}
    {%- if enable_thinking -%}
        {{- '<|think|>\n' -}}
    {%- endif -%}
    {%- if has_system -%}
        {{- render_content(messages[0].content) -}}
        {%- set history = messages[1:] -%}
    {%- endif -%}
    {{- '<turn|>\n' -}}
{%- endif -%}
{%- for message in history -%}
    {%- set role = 'model' if message.role == 'assistant' else message.role -%}
    {{- '<|turn>' ~ role ~ '\n' -}}
    {%- if role == 'model' and message.content is string -%}
        {{- without_thinking(message.content) -}}
    {%- else -%}
        {{- render_content(message.content) -}}
    {%- endif -%}
    {{- '<turn|>\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{- '<|turn>model\n' -}}
    {%- if not enable_thinking -%}
        {{- '<|channel>thought\n<channel|>' -}}
    {%- endif -%}
{%- endif -%}
)TPL";

constexpr std::string_view kImagePlace = "<|image|>";  // Gemma 4's image placeholder in template markup
constexpr std::string_view kAudioPlace = "<|audio|>";  // and its audio placeholder
constexpr size_t kMaxSpecialLength = 64;               // bytes; longer special tokens are not matched in markup

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("chat template: cannot read '" + path.string() + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ChatTemplate FromFile(const std::filesystem::path& path, std::string source) {
  try {
    return ChatTemplate::FromSource(std::move(source));
  } catch (const jinja::Error& e) {
    throw std::runtime_error("chat template '" + path.string() + "': " + e.what());
  }
}

jinja::Value Context(std::span<const ChatMessage> messages, const ChatOptions& options, bool taint_content) {
  jinja::List list;
  for (const ChatMessage& m : messages) {
    const auto text = [&](const std::string& t) {
      return jinja::Value(t, taint_content ? std::string(t.size(), '\1') : std::string());
    };
    auto d = std::make_shared<jinja::Dict>();
    d->Set("role", jinja::Value(m.role));
    if (m.parts.empty()) {
      d->Set("content", text(m.content));
    } else {
      jinja::List parts;
      for (const ContentPart& part : m.parts) {
        auto item = std::make_shared<jinja::Dict>();
        if (part.kind == ContentPart::Kind::kImage) {
          item->Set("type", jinja::Value("image"));
        } else if (part.kind == ContentPart::Kind::kAudio) {
          item->Set("type", jinja::Value("audio"));
        } else {
          item->Set("type", jinja::Value("text"));
          item->Set("text", text(part.text));
        }
        parts.emplace_back(item);
      }
      d->Set("content", jinja::Value(std::move(parts)));
    }
    list.emplace_back(d);
  }
  auto ctx = std::make_shared<jinja::Dict>();
  ctx->Set("messages", jinja::Value(std::move(list)));
  ctx->Set("add_generation_prompt", jinja::Value(options.add_generation_prompt));
  ctx->Set("enable_thinking", jinja::Value(options.enable_thinking));
  ctx->Set("bos_token", jinja::Value("<bos>"));
  ctx->Set("eos_token", jinja::Value("<eos>"));
  return jinja::Value(ctx);
}

}  // namespace

struct ChatTemplate::Impl {
  jinja::Template tmpl;
};

ChatTemplate::ChatTemplate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;
ChatTemplate::~ChatTemplate() = default;

ChatTemplate ChatTemplate::FromSource(std::string source) {
  return ChatTemplate(std::make_unique<Impl>(Impl{jinja::Template(std::move(source))}));
}

ChatTemplate ChatTemplate::BuiltinGemma4() { return FromSource(kGemma4Template); }

ChatTemplate ChatTemplate::Load(const std::filesystem::path& model_dir) {
  if (IsGgufPath(model_dir)) {  // llama.cpp's converter stores it as tokenizer.chat_template
    const GgufModel gguf = GgufModel::Open(model_dir);
    if (!gguf.first().Find("tokenizer.chat_template")) return BuiltinGemma4();
    return FromFile(model_dir, gguf.first().GetString("tokenizer.chat_template"));
  }
  const std::filesystem::path jinja_path = model_dir / "chat_template.jinja";
  if (std::filesystem::exists(jinja_path)) return FromFile(jinja_path, ReadFile(jinja_path));
  const std::filesystem::path config_path = model_dir / "tokenizer_config.json";
  if (!std::filesystem::exists(config_path)) return BuiltinGemma4();
  const auto fail = [&](const std::string& what) {
    throw std::runtime_error("chat template '" + config_path.string() + "': " + what);
  };
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(ReadFile(config_path));
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("invalid JSON: ") + e.what());
  }
  if (!config.is_object() || !config.contains("chat_template") || config["chat_template"].is_null()) {
    return BuiltinGemma4();
  }
  const nlohmann::json& t = config["chat_template"];
  if (t.is_string()) return FromFile(config_path, t.get<std::string>());
  if (t.is_array()) {
    for (const nlohmann::json& entry : t) {
      if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template") &&
          entry["template"].is_string()) {
        return FromFile(config_path, entry["template"].get<std::string>());
      }
    }
    fail("\"chat_template\" has no entry named \"default\"");
  }
  fail("\"chat_template\" is neither a string nor a list of {name, template}");
  return BuiltinGemma4();  // not reached
}

const std::string& ChatTemplate::source() const { return impl_->tmpl.source(); }

std::string ChatTemplate::Render(std::span<const ChatMessage> messages, const ChatOptions& options) const {
  return impl_->tmpl.Render(Context(messages, options, false));
}

std::vector<int32_t> ChatTemplate::Encode(const tok::Tokenizer& tokenizer, std::span<const ChatMessage> messages,
                                          const ChatOptions& options) const {
  const jinja::Rendered r = impl_->tmpl.RenderTracked(Context(messages, options, true));
  const std::string& text = r.text;
  const auto tainted = [&](size_t i) { return !r.taint.empty() && r.taint[i] != 0; };
  std::vector<int32_t> ids;
  size_t plain_start = 0;  // start of text not yet encoded
  const auto flush = [&](size_t end) {
    if (end > plain_start) {
      // As text: message contents are here, and a user's "<bos>" must stay text.
      const std::vector<int32_t> part =
          tokenizer.Encode(std::string_view(text).substr(plain_start, end - plain_start), tok::SpecialTokens::kAsText);
      ids.insert(ids.end(), part.begin(), part.end());
    }
  };
  size_t run_end = 0;  // end of the untainted run containing i
  for (size_t i = 0; i < text.size();) {
    if (tainted(i)) {
      ++i;
      continue;
    }
    if (run_end <= i) {
      run_end = i;
      while (run_end < text.size() && !tainted(run_end)) ++run_end;
    }
    // Longest special token starting at i inside template markup; an image's or a clip's place first.
    size_t matched = 0;
    int32_t id = -1;
    if (options.image_token_id >= 0 && std::string_view(text).substr(i, run_end - i).starts_with(kImagePlace)) {
      matched = kImagePlace.size();
      id = options.image_token_id;
    }
    if (options.audio_token_id >= 0 && std::string_view(text).substr(i, run_end - i).starts_with(kAudioPlace)) {
      matched = kAudioPlace.size();
      id = options.audio_token_id;
    }
    for (size_t len = std::min(kMaxSpecialLength, run_end - i); len > 0 && !matched; --len) {
      const std::optional<int32_t> found = tokenizer.PieceToId(std::string_view(text).substr(i, len));
      if (found && tokenizer.IsSpecial(*found)) {
        matched = len;
        id = *found;
      }
    }
    if (!matched) {
      ++i;
      continue;
    }
    flush(i);
    ids.push_back(id);
    i += matched;
    plain_start = i;
  }
  flush(text.size());
  return ids;
}

}  // namespace vkg
