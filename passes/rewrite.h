// Helpers the rewriting passes share: who uses a value, and removing bricks in one sweep.
// Passes keep value ids (values are never erased) and let a fused brick define the
// results of the bricks it replaces, so names and later uses stay as they were.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace brickc::passes {

class Uses {
 public:
  explicit Uses(const ir::Graph& g);
  // Indices of the bricks reading v (once per brick), in program order.
  const std::vector<size_t>& users(ir::ValueId v) const { return users_[v.index]; }
  bool is_output(ir::ValueId v) const { return output_[v.index]; }
  // The only reader of v, if v has exactly one brick reading it and is no graph output.
  std::optional<size_t> single_user(ir::ValueId v) const;
  // Index of the brick defining v, if any.
  std::optional<size_t> producer(ir::ValueId v) const;

 private:
  std::vector<std::vector<size_t>> users_;
  std::vector<bool> output_;
  std::vector<size_t> producer_;
};

// Drops bricks[i] for every dead[i], keeping the order of the rest.
void erase_bricks(ir::Graph& g, const std::vector<bool>& dead);

// Replaces the note of `key` (or appends it): a pass's report in the printed IR.
void set_note(ir::Graph& g, const std::string& key, std::string text);

// Weight element types with integer quants that an int8 dot product (dp4a) reads directly.
bool int8_dot_weight(DType t);

}  // namespace brickc::passes
