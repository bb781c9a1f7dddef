// Builds graphs in memory: one call per brick, result types inferred from the operands.
// For importers and passes; checks only what it needs to infer types (verify() the rest).
#pragma once
#include <array>
#include <optional>
#include <string>

#include "ir/graph.h"

namespace brickc::ir {

class Builder {
 public:
  explicit Builder(Graph& g) : g_(g) {}

  // Bricks added from now on belong to transformer layer `layer` (-1: outside the layers).
  void set_layer(int layer) { layer_ = layer; }

  ValueId input(std::string name, TensorType type);
  ValueId weight(std::string name, TensorType type, std::string tensor = {});
  ValueId state(std::string name, TensorType type);
  void output(ValueId v) { g_.outputs.push_back(v); }

  struct Caches {
    ValueId k, v;
  };
  struct QkvResults {
    ValueId q, k, v;
  };
  struct RopeKvResults {
    ValueId q;
    Caches caches;
  };

  ValueId embed(std::string name, ValueId token, ValueId table);
  // `out` = q8_1 makes the norm quantize its output for an int8 matvec.
  ValueId rmsnorm(std::string name, ValueId x, ValueId norm_w, float eps, DType out = DType::F32);
  ValueId matvec(std::string name, ValueId x, ValueId w, std::optional<ValueId> bias = {});
  // names: q, k, v; biases all three or none.
  QkvResults qkv(std::array<std::string, 3> names, ValueId x, std::array<ValueId, 3> w,
                 std::optional<std::array<ValueId, 3>> bias = {});
  ValueId rope(std::string name, ValueId x, ValueId pos, int64_t head_dim, float theta);
  // names: the updated k and v caches. `seq`: each token's sequence, for caches with one
  // cache per sequence ([head_dim, n_kv_heads, max_ctx, n_seq]).
  Caches kv_append(std::array<std::string, 2> names, ValueId k, ValueId v, ValueId pos,
                   Caches cache, std::optional<ValueId> seq = {});
  ValueId attention(std::string name, ValueId q, Caches cache, ValueId pos,
                    std::optional<ValueId> seq = {});
  ValueId swiglu(std::string name, ValueId gate, ValueId up, DType out = DType::F32);
  ValueId add(std::string name, ValueId a, ValueId b);
  // last_row: logits of the step's last token only ([n_vocab]), as generation needs; else
  // one row per token ([n_vocab, T]), for dumped logits and perplexity.
  ValueId lm_head(std::string name, ValueId x, ValueId w, bool last_row = true);
  ValueId argmax(std::string name, ValueId logits);

  ValueId rmsnorm_matvec(std::string name, ValueId x, ValueId norm_w, ValueId w, float eps,
                         std::optional<ValueId> bias = {});
  ValueId gate_up_swiglu(std::string name, ValueId x, ValueId w_gate, ValueId w_up,
                         DType out = DType::F32);
  // names: the roped q, the updated k and v caches.
  RopeKvResults rope_kv_append(std::array<std::string, 3> names, ValueId q, ValueId k, ValueId v,
                               ValueId pos, Caches cache, float theta,
                               std::optional<ValueId> seq = {});
  ValueId matvec_add(std::string name, ValueId x, ValueId w, ValueId residual);

 private:
  Brick& append(BrickKind kind, std::vector<ValueId> operands, std::vector<NamedType> results,
                Attrs attrs = {});
  ValueId one(BrickKind kind, std::vector<ValueId> operands, std::string name, TensorType type,
              Attrs attrs = {});
  // An activation result of n elements per token of the graph.
  TensorType act(DType t, int64_t n) const;
  // Output length of weight w ([in, out]).
  int64_t out_len(ValueId w) const;
  int64_t len(ValueId v) const { return g_.type(v).shape.ne0(); }

  Graph& g_;
  int layer_ = -1;
};

}  // namespace brickc::ir
