// Brick kinds of the IR (a closed, small set plus the composite kinds fusion makes), their
// attributes, and one Brick: a kind applied to operand values, defining result values.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ir/value.h"

namespace brickc::ir {

enum class BrickKind {
  Embed,
  Rmsnorm,
  Matvec,
  Qkv,
  Rope,
  KvAppend,
  Attention,
  Swiglu,
  Add,
  LmHead,
  Argmax,
  // Composites: each does exactly what its parts do, in one pass over the weights.
  // rmsnorm_* run the norm in the prologue of the matvec-family brick that reads it; the
  // normalized x is q8_1 inside the brick exactly when all its matrices are int8-dot
  // weights (the rule quantize-activations applies to a standalone norm).
  RmsnormMatvec,
  RmsnormQkv,
  RmsnormGateUpSwiglu,
  RmsnormLmHead,
  GateUpSwiglu,
  RopeKvAppend,
  MatvecAdd,
};

// The IR keyword ("gate_up_swiglu"); the same name is used by the CPU function, the
// kernel template and the tests (STYLE.md).
std::string_view keyword(BrickKind k);
std::optional<BrickKind> brick_kind_from_keyword(std::string_view s);
std::span<const BrickKind> all_brick_kinds();

// Integers (head_dim) or reals; reals are f32 because the model's hyperparameters are
// (GGUF stores eps and rope base as f32, and the reference numerics use them as floats).
using Attr = std::variant<int64_t, float>;
using Attrs = std::map<std::string, Attr, std::less<>>;

// RoPE's per-pair angle factor, base^(-2 / head_dim), as ggml's rope cache computes it (on
// the host, in f32): the CPU reference and the GPU kernels (which get it as an argument)
// multiply the position by it pair after pair, so both see the same angles at any position.
float rope_theta_scale(float base, int64_t head_dim);

enum class AttrType { Int, Float };
struct AttrSpec {
  std::string_view name;
  AttrType type;
};

// What a kind takes: the operand counts it accepts (optional trailing operands, e.g. biases),
// its result count, its attributes (all required, no others allowed) and operand names for
// messages (one per operand of the longest form).
struct BrickSignature {
  std::vector<int> operand_counts;
  int results;
  std::vector<AttrSpec> attrs;
  std::vector<std::string_view> operand_names;

  bool takes(size_t n_operands) const;
};
const BrickSignature& signature(BrickKind k);

struct Brick {
  BrickKind kind;
  std::vector<ValueId> operands;
  std::vector<ValueId> results;
  Attrs attrs;
  int layer = -1;  // transformer layer the brick belongs to; -1 outside the layers
  // Time claim in µs, set by the budget pass and checked by the runtime.
  std::optional<double> budget_us;
  Loc loc;

  const Attr* attr(std::string_view name) const;
  int64_t int_attr(std::string_view name) const;  // fails if absent or not an int
  float float_attr(std::string_view name) const;  // accepts an int
};

// The operand that result `r` of `b` updates in place: the cache results of kv_append and
// rope_kv_append are the caches they were given (operand 3 + r for both kinds); nullopt for
// every other result. Executors alias the two; memory planning leaves them out.
std::optional<size_t> updated_operand(const Brick& b, size_t r);

}  // namespace brickc::ir
