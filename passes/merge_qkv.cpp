// merge-qkv: the three projections of one attention input become one qkv brick, so the
// activation is read (and quantized) once and one kernel streams all three weights.
// Matches exactly three matvecs of one x (biases all present or all absent) where, in
// program order, the first feeds a rope (q), the second a rope into a kv_append (k) and
// the third that kv_append (v).
#include "passes/pass.h"
#include "passes/rewrite.h"

namespace brickc::passes {
namespace {

bool is_matvec(const ir::Brick& b) { return b.kind == ir::BrickKind::Matvec; }

}  // namespace

void merge_qkv(ir::Graph& g, const PassOptions&) {
  Uses uses(g);
  auto& bricks = g.bricks();
  std::vector<bool> dead(bricks.size(), false);
  std::vector<bool> taken(bricks.size(), false);
  for (size_t i = 0; i < bricks.size(); ++i) {
    if (!is_matvec(bricks[i]) || taken[i]) continue;
    // The attention projections are the matvecs whose q and k results go through rope
    // into a kv_append; that tells q, k and v apart from the gate/up pair of the FFN.
    std::vector<size_t> group;
    for (size_t u : uses.users(bricks[i].operands[0]))
      if (is_matvec(bricks[u]) && !taken[u] &&
          bricks[u].operands.size() == bricks[i].operands.size())
        group.push_back(u);
    if (group.size() != 3 || group[0] != i) continue;
    auto feeds = [&](size_t m, ir::BrickKind kind) {
      auto u = uses.single_user(bricks[m].results[0]);
      return u && bricks[*u].kind == kind;
    };
    auto appended = [&](size_t m) {  // rope(k) → kv_append, or v → kv_append directly
      auto u = uses.single_user(bricks[m].results[0]);
      if (!u) return false;
      if (bricks[*u].kind == ir::BrickKind::KvAppend) return true;
      auto u2 = uses.single_user(bricks[*u].results[0]);
      return bricks[*u].kind == ir::BrickKind::Rope && u2 &&
             bricks[*u2].kind == ir::BrickKind::KvAppend;
    };
    if (!feeds(group[0], ir::BrickKind::Rope) || !appended(group[1]) || !appended(group[2]))
      continue;
    const ir::Brick &q = bricks[group[0]], &k = bricks[group[1]], &v = bricks[group[2]];
    std::vector<ir::ValueId> ops{q.operands[0], q.operands[1], k.operands[1], v.operands[1]};
    if (q.operands.size() == 3)
      ops.insert(ops.end(), {q.operands[2], k.operands[2], v.operands[2]});
    ir::Brick fused{ir::BrickKind::Qkv, std::move(ops),
                    {q.results[0], k.results[0], v.results[0]}, {}, q.layer, std::nullopt, q.loc};
    // At the first projection: x and the weights are defined there, and every user of
    // k and v comes after their own (later) definitions.
    for (size_t m : group) taken[m] = true;
    dead[group[1]] = dead[group[2]] = true;
    bricks[group[0]] = std::move(fused);
  }
  erase_bricks(g, dead);
}

}  // namespace brickc::passes
