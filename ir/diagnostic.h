// A problem found in IR text or in a graph, with the source position where there is one.
// Parser and verifier return these so that the tool prints every one, compiler-style.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "ir/value.h"

namespace brickc::ir {

struct Diagnostic {
  Loc loc;
  std::string message;
};

// "file:line:col: error: message", or "file: error: message" without a position.
std::string format(const Diagnostic& d, std::string_view file);
// All diagnostics, one per line (for brickc::Error messages).
std::string format(const std::vector<Diagnostic>& ds, std::string_view file);

}  // namespace brickc::ir
