// The text form of a graph (grammar: ir/parser.cpp). Bricks carry their cost as a trailing
// comment so that a dump shows where the bytes and flops go; the parser ignores comments.
#pragma once
#include <span>
#include <string>

#include "ir/graph.h"

namespace brickc::ir {

// Canonical text: parse(print(g)) prints to the same text. Ends with a newline.
// `brick_notes`, when given, has one entry per brick, added to its trailing comment after
// " | " (measured times, for `compile --annotate`); comments do not parse back.
std::string print(const Graph& g, std::span<const std::string> brick_notes = {});

// Shortest text that reads back as the same float (always with '.' or an exponent, so the
// parser sees a real, not an integer).
std::string format_real(double v);
std::string format_real(float v);

}  // namespace brickc::ir
