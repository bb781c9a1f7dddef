// fuse-matvec-add: add(r, matvec(x, w)) → matvec_add(x, w, r): the residual add happens in
// the matvec's epilogue, so the projection's output never reaches memory on its own.
// Only bias-free matvecs (Qwen2's attn_output and ffn_down) whose one reader is the add.
#include "passes/pass.h"
#include "passes/rewrite.h"

namespace brickc::passes {

void fuse_matvec_add(ir::Graph& g, const PassOptions&) {
  Uses uses(g);
  auto& bricks = g.bricks();
  std::vector<bool> dead(bricks.size(), false);
  for (size_t i = 0; i < bricks.size(); ++i) {
    const ir::Brick& a = bricks[i];
    if (a.kind != ir::BrickKind::Add) continue;
    // Either operand may be the projection; the other is the residual stream.
    for (int side : {1, 0}) {
      ir::ValueId mv = a.operands[side], residual = a.operands[1 - side];
      auto p = uses.producer(mv);
      if (!p || dead[*p] || uses.single_user(mv) != i || mv == residual) continue;
      const ir::Brick& m = bricks[*p];
      if (m.kind != ir::BrickKind::Matvec || m.operands.size() != 2) continue;
      ir::Brick fused{ir::BrickKind::MatvecAdd, {m.operands[0], m.operands[1], residual},
                      a.results, {}, a.layer, std::nullopt, a.loc};
      dead[*p] = true;
      bricks[i] = std::move(fused);
      break;
    }
  }
  erase_bricks(g, dead);
}

}  // namespace brickc::passes
