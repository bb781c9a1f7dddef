// fuse-gate-up-swiglu: swiglu(matvec(x, gate), matvec(x, up)) → gate_up_swiglu(x, gate, up).
// One pass over both FFN input matrices; the gate and up vectors never reach memory.
#include "passes/pass.h"
#include "passes/rewrite.h"

namespace brickc::passes {

void fuse_gate_up_swiglu(ir::Graph& g, const PassOptions&) {
  Uses uses(g);
  auto& bricks = g.bricks();
  std::vector<bool> dead(bricks.size(), false);
  for (size_t i = 0; i < bricks.size(); ++i) {
    const ir::Brick& s = bricks[i];
    if (s.kind != ir::BrickKind::Swiglu) continue;
    auto plain_matvec = [&](ir::ValueId v) -> std::optional<size_t> {
      auto p = uses.producer(v);
      if (!p || dead[*p] || uses.single_user(v) != i) return std::nullopt;
      const ir::Brick& m = bricks[*p];
      if (m.kind != ir::BrickKind::Matvec || m.operands.size() != 2) return std::nullopt;
      return p;
    };
    auto gate = plain_matvec(s.operands[0]), up = plain_matvec(s.operands[1]);
    if (!gate || !up || *gate == *up) continue;
    const ir::Brick &mg = bricks[*gate], &mu = bricks[*up];
    if (mg.operands[0] != mu.operands[0] || g.type(mg.operands[1]) != g.type(mu.operands[1]))
      continue;
    ir::Brick fused{ir::BrickKind::GateUpSwiglu,
                    {mg.operands[0], mg.operands[1], mu.operands[1]},
                    s.results, {}, s.layer, std::nullopt, s.loc};
    dead[*gate] = dead[*up] = true;
    bricks[i] = std::move(fused);
  }
  erase_bricks(g, dead);
}

}  // namespace brickc::passes
