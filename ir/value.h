// Values of the Brick IR: every tensor a brick reads or writes, named and typed. A value is
// declared (step input, weight, persistent state) or is the result of exactly one brick.
#pragma once
#include <compare>
#include <cstdint>
#include <string>

#include "ir/types.h"

namespace brickc::ir {

// Source position of parsed IR (1-based); line 0 means "built in memory, no position".
struct Loc {
  int line = 0;
  int col = 0;
  explicit operator bool() const { return line > 0; }
};

enum class ValueKind {
  Input,   // per-step value from the step struct: token id, position (DESIGN.md §6)
  Weight,  // read-only model tensor, bound to a GGUF tensor by name
  State,   // persists across steps and is updated in place: the KV cache
  Result,  // defined by a brick
};

// Index into Graph::values(); stable for the graph's lifetime (values are never erased,
// so passes may keep ids while they rewrite the brick list).
struct ValueId {
  uint32_t index = UINT32_MAX;
  bool operator==(const ValueId&) const = default;
  auto operator<=>(const ValueId&) const = default;
};

struct Value {
  std::string name;  // without the '%'
  TensorType type;
  ValueKind kind = ValueKind::Result;
  std::string tensor;  // weights: the GGUF tensor name ("blk.0.attn_q.weight"), may be empty
  Loc loc;             // where it is declared or defined
};

}  // namespace brickc::ir
