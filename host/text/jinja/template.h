// vkg::jinja::Template: a parsed Jinja template (the subset Hugging Face chat templates use),
// rendered with trim_blocks and lstrip_blocks on, as transformers renders chat templates.
#pragma once
#include <memory>
#include <string>

#include "host/text/jinja/error.h"
#include "host/text/jinja/interpreter.h"
#include "host/text/jinja/lexer.h"
#include "host/text/jinja/value.h"

namespace vkg::jinja {

class Template {
 public:
  // Throws jinja::Error on a syntax error (unterminated tag, unknown filter, ...).
  explicit Template(std::string source, const LexOptions& options = {});
  ~Template();
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;

  // `context` is a dict of global variables. Throws jinja::Error on a runtime error.
  std::string Render(const Value& context) const;
  // As Render, with the taint mask of the output (see value.h).
  Rendered RenderTracked(const Value& context) const;

  const std::string& source() const { return source_; }

 private:
  struct Parsed;
  std::string source_;
  std::unique_ptr<Parsed> parsed_;
};

}  // namespace vkg::jinja
