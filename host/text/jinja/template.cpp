#include "host/text/jinja/template.h"

#include "host/text/jinja/ast.h"
#include "host/text/jinja/parser.h"

namespace vkg::jinja {

struct Template::Parsed {
  Body body;
};

Template::Template(std::string source, const LexOptions& options)
    : source_(std::move(source)), parsed_(std::make_unique<Parsed>()) {
  parsed_->body = Parse(Lex(source_, options));
}

Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

std::string Template::Render(const Value& context) const { return RenderTracked(context).text; }

Rendered Template::RenderTracked(const Value& context) const {
  if (!context.is_dict()) throw Error(0, "the template context must be a dict");
  return Execute(parsed_->body, context);
}

}  // namespace vkg::jinja
