// The verifier: checks that a graph is well formed (SSA order, operand and result counts,
// attributes, element types and shapes per brick kind) before any pass or backend uses it.
#pragma once
#include <string_view>
#include <vector>

#include "ir/diagnostic.h"
#include "ir/graph.h"

namespace brickc::ir {

// Every problem found, in program order; empty when the graph is valid. Each message
// names the rule ("shape mismatch", "wrong type", "use before definition", ...), the
// brick (kind and first result) and what was expected and found.
std::vector<Diagnostic> verify(const Graph& g);

// Throws brickc::Error listing every problem; `source` names the graph in the message.
void verify_or_fail(const Graph& g, std::string_view source);

}  // namespace brickc::ir
