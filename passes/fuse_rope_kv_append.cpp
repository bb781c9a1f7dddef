// fuse-rope-kv-append: rope(q), rope(k) and the kv_append of that k become one
// rope_kv_append, which rotates q and k and writes k (and v) into the caches at %pos in
// one epilogue; the roped k never reaches memory. Both ropes must share pos, theta and a
// head_dim equal to the cache's, since rope_kv_append takes its head size from the cache.
#include "passes/pass.h"
#include "passes/rewrite.h"

namespace brickc::passes {

void fuse_rope_kv_append(ir::Graph& g, const PassOptions&) {
  Uses uses(g);
  auto& bricks = g.bricks();
  std::vector<bool> dead(bricks.size(), false);
  for (size_t i = 0; i < bricks.size(); ++i) {
    const ir::Brick& a = bricks[i];
    if (a.kind != ir::BrickKind::KvAppend) continue;
    const ir::ValueId pos = a.operands[2];
    const int64_t head_dim = g.type(a.operands[3]).shape.ne0();
    auto rope_of = [&](const ir::Brick& r) {
      return r.kind == ir::BrickKind::Rope && r.operands[1] == pos &&
             r.int_attr("head_dim") == head_dim;
    };
    auto kp = uses.producer(a.operands[0]);
    if (!kp || dead[*kp] || uses.single_user(a.operands[0]) != i || !rope_of(bricks[*kp]))
      continue;
    const ir::Brick& kr = bricks[*kp];
    // The q rope: same position and theta, before the append, its result read only after
    // it (the fused brick defines it at the append's place). Where k comes from a qkv
    // brick, q must be that brick's q; otherwise the append's layer tells the step apart.
    // rmsnorm_qkv (fuse-rmsnorm-matvec run first) has q as result 0 too.
    std::optional<ir::ValueId> q_of_qkv;
    if (auto p = uses.producer(kr.operands[0]);
        p && (bricks[*p].kind == ir::BrickKind::Qkv ||
              bricks[*p].kind == ir::BrickKind::RmsnormQkv))
      q_of_qkv = bricks[*p].results[0];
    std::optional<size_t> qp;
    for (size_t j = 0; j < i && !qp; ++j) {
      const ir::Brick& r = bricks[j];
      if (j == *kp || dead[j] || !rope_of(r) || r.float_attr("theta") != kr.float_attr("theta"))
        continue;
      if (q_of_qkv ? r.operands[0] != *q_of_qkv : r.layer != a.layer) continue;
      bool after = true;
      for (size_t u : uses.users(r.results[0])) after = after && u > i;
      if (after) qp = j;
    }
    if (!qp) continue;
    const ir::Brick& qr = bricks[*qp];
    std::vector<ir::ValueId> operands = {qr.operands[0], kr.operands[0], a.operands[1], pos,
                                         a.operands[3], a.operands[4]};
    if (a.operands.size() > 5) operands.push_back(a.operands[5]);  // seq, in a batch
    ir::Brick fused{ir::BrickKind::RopeKvAppend,
                    std::move(operands),
                    {qr.results[0], a.results[0], a.results[1]},
                    {{"theta", kr.float_attr("theta")}},
                    a.layer, std::nullopt, a.loc};
    dead[*qp] = dead[*kp] = true;
    bricks[i] = std::move(fused);
  }
  erase_bricks(g, dead);
}

}  // namespace brickc::passes
