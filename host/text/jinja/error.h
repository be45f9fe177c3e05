// vkg::jinja errors: one line, "jinja: line N: what".
#pragma once
#include <stdexcept>
#include <string>

namespace vkg::jinja {

class Error : public std::runtime_error {
 public:
  Error(int line, const std::string& what)
      : std::runtime_error("jinja: line " + std::to_string(line) + ": " + what), line_(line) {}
  int line() const { return line_; }

 private:
  int line_;
};

}  // namespace vkg::jinja
