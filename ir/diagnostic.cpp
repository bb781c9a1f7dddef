#include "ir/diagnostic.h"

#include <fmt/format.h>

namespace brickc::ir {

std::string format(const Diagnostic& d, std::string_view file) {
  if (d.loc) return fmt::format("{}:{}:{}: error: {}", file, d.loc.line, d.loc.col, d.message);
  return fmt::format("{}: error: {}", file, d.message);
}

std::string format(const std::vector<Diagnostic>& ds, std::string_view file) {
  std::string out;
  for (const auto& d : ds) {
    if (!out.empty()) out += '\n';
    out += format(d, file);
  }
  return out;
}

}  // namespace brickc::ir
