#include "passes/rewrite.h"

#include <cstdint>

namespace brickc::passes {

constexpr size_t kNone = SIZE_MAX;

Uses::Uses(const ir::Graph& g)
    : users_(g.value_count()), output_(g.value_count(), false), producer_(g.value_count(), kNone) {
  const auto& bricks = g.bricks();
  for (size_t i = 0; i < bricks.size(); ++i) {
    for (ir::ValueId o : bricks[i].operands) {
      auto& u = users_[o.index];
      if (u.empty() || u.back() != i) u.push_back(i);
    }
    for (ir::ValueId r : bricks[i].results) producer_[r.index] = i;
  }
  for (ir::ValueId o : g.outputs) output_[o.index] = true;
}

std::optional<size_t> Uses::single_user(ir::ValueId v) const {
  if (output_[v.index] || users_[v.index].size() != 1) return std::nullopt;
  return users_[v.index][0];
}

std::optional<size_t> Uses::producer(ir::ValueId v) const {
  if (producer_[v.index] == kNone) return std::nullopt;
  return producer_[v.index];
}

void erase_bricks(ir::Graph& g, const std::vector<bool>& dead) {
  auto& bricks = g.bricks();
  std::vector<ir::Brick> kept;
  kept.reserve(bricks.size());
  for (size_t i = 0; i < bricks.size(); ++i)
    if (!dead[i]) kept.push_back(std::move(bricks[i]));
  bricks = std::move(kept);
}

void set_note(ir::Graph& g, const std::string& key, std::string text) {
  for (auto& [k, t] : g.notes)
    if (k == key) {
      t = std::move(text);
      return;
    }
  g.notes.emplace_back(key, std::move(text));
}

bool int8_dot_weight(DType t) {
  // Block formats hold integer quants that a dp4a dot product consumes directly; plain
  // float weights (f32/f16/bf16) have no blocks.
  return ir::is_weight_type(t) && info(t).block_elems > 1;
}

}  // namespace brickc::passes
