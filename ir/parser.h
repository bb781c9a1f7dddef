// Reads the text form of the Brick IR (grammar at the top of parser.cpp) into a Graph.
// Syntax is checked here; types and shapes are the verifier's job.
#pragma once
#include <string_view>
#include <vector>

#include "ir/diagnostic.h"
#include "ir/graph.h"

namespace brickc::ir {

struct ParseResult {
  Graph graph;
  std::vector<Diagnostic> errors;  // at most one: parsing stops at the first syntax error
  bool ok() const { return errors.empty(); }
};

// `first_line` is the line number of text's first line, so that a chunk of a split file
// reports positions in the whole file.
ParseResult parse(std::string_view text, int first_line = 1);

}  // namespace brickc::ir
