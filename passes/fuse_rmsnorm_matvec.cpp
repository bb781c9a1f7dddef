// fuse-rmsnorm-matvec: rmsnorm(x) read by exactly one matvec becomes rmsnorm_matvec: the
// norm runs in the matvec's prologue (x is one row, cheap to normalize per block) and the
// normalized vector never reaches memory. A norm that feeds a multi-weight brick (qkv,
// gate_up_swiglu, lm_head) stays separate; quantize-activations then makes it emit int8.
#include "passes/pass.h"
#include "passes/rewrite.h"

namespace brickc::passes {

void fuse_rmsnorm_matvec(ir::Graph& g, const PassOptions&) {
  Uses uses(g);
  auto& bricks = g.bricks();
  std::vector<bool> dead(bricks.size(), false);
  for (size_t i = 0; i < bricks.size(); ++i) {
    const ir::Brick& n = bricks[i];
    if (n.kind != ir::BrickKind::Rmsnorm || g.type(n.results[0]).elem != DType::F32) continue;
    auto u = uses.single_user(n.results[0]);
    if (!u) continue;
    const ir::Brick& m = bricks[*u];
    if (m.kind != ir::BrickKind::Matvec || m.operands[0] != n.results[0]) continue;
    std::vector<ir::ValueId> ops{n.operands[0], n.operands[1], m.operands[1]};
    if (m.operands.size() == 3) ops.push_back(m.operands[2]);
    ir::Brick fused{ir::BrickKind::RmsnormMatvec, std::move(ops), m.results, n.attrs,
                    m.layer, std::nullopt, m.loc};
    dead[i] = true;
    bricks[*u] = std::move(fused);
  }
  erase_bricks(g, dead);
}

}  // namespace brickc::passes
