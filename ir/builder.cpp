#include "ir/builder.h"

#include "ir/error.h"

namespace brickc::ir {

ValueId Builder::input(std::string name, TensorType type) {
  return g_.declare(ValueKind::Input, std::move(name), std::move(type));
}

ValueId Builder::weight(std::string name, TensorType type, std::string tensor) {
  return g_.declare(ValueKind::Weight, std::move(name), std::move(type), std::move(tensor));
}

ValueId Builder::state(std::string name, TensorType type) {
  return g_.declare(ValueKind::State, std::move(name), std::move(type));
}

Brick& Builder::append(BrickKind kind, std::vector<ValueId> operands,
                       std::vector<NamedType> results, Attrs attrs) {
  return g_.append(kind, std::move(operands), std::move(results), std::move(attrs), layer_);
}

ValueId Builder::one(BrickKind kind, std::vector<ValueId> operands, std::string name,
                     TensorType type, Attrs attrs) {
  return append(kind, std::move(operands), {{std::move(name), std::move(type)}}, std::move(attrs))
      .results[0];
}

TensorType Builder::act(DType t, int64_t n) const { return rows(t, n, g_.n_tokens); }

int64_t Builder::out_len(ValueId w) const {
  const auto& t = g_.type(w);
  if (t.shape.dims.size() != 2)
    fail("builder: weight %{} : {} must be a matrix [in, out]", g_.value(w).name, to_string(t));
  return t.shape.dims[1];
}

ValueId Builder::embed(std::string name, ValueId token, ValueId table) {
  return one(BrickKind::Embed, {token, table}, std::move(name), act(DType::F32, len(table)));
}

ValueId Builder::rmsnorm(std::string name, ValueId x, ValueId norm_w, float eps, DType out) {
  return one(BrickKind::Rmsnorm, {x, norm_w}, std::move(name), act(out, len(x)), {{"eps", eps}});
}

ValueId Builder::matvec(std::string name, ValueId x, ValueId w, std::optional<ValueId> bias) {
  std::vector<ValueId> ops{x, w};
  if (bias) ops.push_back(*bias);
  return one(BrickKind::Matvec, std::move(ops), std::move(name), act(DType::F32, out_len(w)));
}

Builder::QkvResults Builder::qkv(std::array<std::string, 3> names, ValueId x,
                                 std::array<ValueId, 3> w,
                                 std::optional<std::array<ValueId, 3>> bias) {
  std::vector<ValueId> ops{x, w[0], w[1], w[2]};
  if (bias) ops.insert(ops.end(), bias->begin(), bias->end());
  std::vector<NamedType> results;
  for (int i = 0; i < 3; ++i) results.push_back({std::move(names[i]), act(DType::F32, out_len(w[i]))});
  const auto& r = append(BrickKind::Qkv, std::move(ops), std::move(results)).results;
  return {r[0], r[1], r[2]};
}

ValueId Builder::rope(std::string name, ValueId x, ValueId pos, int64_t head_dim, float theta) {
  return one(BrickKind::Rope, {x, pos}, std::move(name), g_.type(x),
             {{"head_dim", head_dim}, {"theta", theta}});
}

Builder::Caches Builder::kv_append(std::array<std::string, 2> names, ValueId k, ValueId v,
                                   ValueId pos, Caches cache, std::optional<ValueId> seq) {
  std::vector<ValueId> operands = {k, v, pos, cache.k, cache.v};
  if (seq) operands.push_back(*seq);
  const auto& r =
      append(BrickKind::KvAppend, std::move(operands),
             {{std::move(names[0]), g_.type(cache.k)}, {std::move(names[1]), g_.type(cache.v)}})
          .results;
  return {r[0], r[1]};
}

ValueId Builder::attention(std::string name, ValueId q, Caches cache, ValueId pos,
                           std::optional<ValueId> seq) {
  std::vector<ValueId> operands = {q, cache.k, cache.v, pos};
  if (seq) operands.push_back(*seq);
  return one(BrickKind::Attention, std::move(operands), std::move(name), g_.type(q));
}

ValueId Builder::swiglu(std::string name, ValueId gate, ValueId up, DType out) {
  return one(BrickKind::Swiglu, {gate, up}, std::move(name), act(out, len(gate)));
}

ValueId Builder::add(std::string name, ValueId a, ValueId b) {
  return one(BrickKind::Add, {a, b}, std::move(name), g_.type(a));
}

ValueId Builder::lm_head(std::string name, ValueId x, ValueId w, bool last_row) {
  return one(BrickKind::LmHead, {x, w}, std::move(name),
             rows(DType::F32, out_len(w), last_row ? 1 : g_.n_tokens));
}

ValueId Builder::argmax(std::string name, ValueId logits) {
  return one(BrickKind::Argmax, {logits}, std::move(name), vec(DType::I32, 1));
}

ValueId Builder::rmsnorm_matvec(std::string name, ValueId x, ValueId norm_w, ValueId w, float eps,
                                std::optional<ValueId> bias) {
  std::vector<ValueId> ops{x, norm_w, w};
  if (bias) ops.push_back(*bias);
  return one(BrickKind::RmsnormMatvec, std::move(ops), std::move(name), act(DType::F32, out_len(w)),
             {{"eps", eps}});
}

ValueId Builder::gate_up_swiglu(std::string name, ValueId x, ValueId w_gate, ValueId w_up,
                                DType out) {
  return one(BrickKind::GateUpSwiglu, {x, w_gate, w_up}, std::move(name),
             act(out, out_len(w_gate)));
}

Builder::RopeKvResults Builder::rope_kv_append(std::array<std::string, 3> names, ValueId q,
                                               ValueId k, ValueId v, ValueId pos, Caches cache,
                                               float theta, std::optional<ValueId> seq) {
  std::vector<ValueId> operands = {q, k, v, pos, cache.k, cache.v};
  if (seq) operands.push_back(*seq);
  const auto& r = append(BrickKind::RopeKvAppend, std::move(operands),
                         {{std::move(names[0]), g_.type(q)},
                          {std::move(names[1]), g_.type(cache.k)},
                          {std::move(names[2]), g_.type(cache.v)}},
                         {{"theta", theta}})
                      .results;
  return {r[0], {r[1], r[2]}};
}

ValueId Builder::matvec_add(std::string name, ValueId x, ValueId w, ValueId residual) {
  return one(BrickKind::MatvecAdd, {x, w, residual}, std::move(name), act(DType::F32, out_len(w)));
}

}  // namespace brickc::ir
