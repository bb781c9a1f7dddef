// A Brick IR graph: one decode step as a value table and a brick list in program order.
// Passes rewrite the brick list; value ids stay valid because values are never erased.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ir/brick.h"
#include "ir/value.h"

namespace brickc::ir {

struct NamedType {
  std::string name;
  TensorType type;
};

class Graph {
 public:
  std::string name = "main";
  // Cached positions the attention bricks read in the step whose cost is reported: the
  // step at position kv_len - 1. Costs are exact for that step; the runtime varies it.
  int64_t kv_len = 1;
  // Tokens the step evaluates together (the token dimension): activations are [n, T]
  // (ggml order: each token a contiguous row of n), %tok and %pos are i32[T]; T = 1 keeps
  // the decode step's plain vectors [n]. The step's tokens are at positions
  // kv_len - T .. kv_len - 1 in the cost model; an executor may run fewer than T of them.
  int64_t n_tokens = 1;
  std::vector<ValueId> outputs;  // what the step returns (e.g. the next token); keeps bricks live
  // Reports of analysis passes (memory plan, budgets), keyed by pass name, printed as
  // comments under the header. Comments do not parse back: rerunning the pass restores them.
  std::vector<std::pair<std::string, std::string>> notes;

  // Declares an input, weight or state value. Fails if the name is taken.
  ValueId declare(ValueKind kind, std::string name, TensorType type, std::string tensor = {},
                  Loc loc = {});
  // A value with no definition yet (the parser's forward reference); a brick defines it later.
  ValueId add_result_value(std::string name, TensorType type, Loc loc = {});
  // Appends a brick whose results are new values with the given names and types.
  Brick& append(BrickKind kind, std::vector<ValueId> operands, std::vector<NamedType> results,
                Attrs attrs = {}, int layer = -1);

  const Value& value(ValueId id) const { return values_.at(id.index); }
  Value& value(ValueId id) { return values_.at(id.index); }
  const TensorType& type(ValueId id) const { return value(id).type; }
  size_t value_count() const { return values_.size(); }
  std::optional<ValueId> find(std::string_view name) const;
  // `stem` if free, else stem.1, stem.2, ...: for passes that create values.
  std::string unique_name(std::string_view stem) const;

  std::vector<Brick>& bricks() { return bricks_; }
  const std::vector<Brick>& bricks() const { return bricks_; }
  // Every operand and output use of `from` becomes `to`.
  void replace_all_uses(ValueId from, ValueId to);
  // Index in bricks() of the brick that defines v; nullopt for declared values. A scan:
  // passes that ask often build their own map.
  std::optional<size_t> producer(ValueId v) const;
  // Indices in bricks() of the bricks that read v, in program order.
  std::vector<size_t> users(ValueId v) const;
  // The brick a user names on the command line: `%value` (the brick that defines it) or
  // `kind@layer` (the first brick of that kind in that layer; `kind` alone outside the
  // layers). Fails saying which forms exist.
  size_t find_brick(std::string_view spec) const;

 private:
  ValueId add_value(Value v);

  std::vector<Value> values_;
  std::vector<Brick> bricks_;
  std::unordered_map<std::string, uint32_t> by_name_;
};

}  // namespace brickc::ir
