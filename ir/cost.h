// What a brick costs, exactly, from its shapes and element types: bytes read and written
// and flops. The roofline (budget) pass and the printed IR both read these numbers.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "ir/graph.h"

namespace brickc::ir {

// Conventions (cost.cpp has the formula per kind):
// - a tensor costs its storage bytes, rows * row_bytes(type, ne0), so a q4_K matrix costs
//   its blocks; i32 step inputs (token, pos) cost their 4 bytes;
// - a fused brick reads each input once and writes no intermediate;
// - attention reads kv_len positions of both caches (Graph::kv_len) once, and its T tokens
//   (Graph::n_tokens) at positions kv_len - T .. kv_len - 1 score causally;
// - a T-token step reads each weight once and each activation row once;
// - a multiply-add is 2 flops; dequantizing, quantizing, type conversion and index
//   arithmetic are not counted; exp, division and compare count 1 each.
struct Cost {
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t flops = 0;

  uint64_t bytes() const { return bytes_read + bytes_written; }
  double intensity() const;  // flops per byte moved
  Cost& operator+=(const Cost& o);
  bool operator==(const Cost&) const = default;
};

// nullopt if the brick has the wrong number of operands or results for its kind (only an
// unverified graph has that); shapes are taken as they are.
std::optional<Cost> cost(const Graph& g, const Brick& b);
Cost total_cost(const Graph& g);

// Decimal units with three significant digits: "1.33 MB", "512 B", "4.72 MFLOP".
std::string format_bytes(uint64_t bytes);
std::string format_flops(uint64_t flops);
// "1.33 MB, 4.72 MFLOP, 3.56 FLOP/B"
std::string format_cost(const Cost& c);

}  // namespace brickc::ir
