// fuse-rmsnorm-matvec: rmsnorm(x) whose only reader is a matvec-family brick (matvec, qkv,
// gate_up_swiglu, lm_head), as its activation, becomes that brick's rmsnorm_ composite:
// the norm runs in the consumer's prologue (each block recomputes 1/rms of the short x
// and normalizes it into shared memory) and the normalized vector never reaches memory.
// In Qwen2 after merge-qkv and fuse-gate-up-swiglu every norm has one such reader:
// attn_norm → rmsnorm_qkv, ffn_norm → rmsnorm_gate_up_swiglu, output_norm → rmsnorm_lm_head.
//
// One composite kind per consumer rather than one generalized "rmsnorm + any" brick:
// STYLE.md gives every fusion its own composite with one name in the IR, the CPU function,
// the kernel template and the tests, and each consumer is a different kernel anyway (one,
// three or two matrices, an epilogue or none). The operands are the norm's followed by the
// consumer's after its activation, so each composite reads like its parts in order.
//
// The int8 activation is implied, not an attribute: the composite quantizes the
// normalized x to q8_1 exactly when all its matrices are int8-dot weights, which is what
// quantize-activations would have done to the standalone norm. It depends only on the
// operand types, so no attribute can disagree with the weights. A norm that already emits
// q8_1 is fused only where that rule gives q8_1 back.
#include "passes/pass.h"
#include "passes/rewrite.h"

namespace brickc::passes {
namespace {

struct Fusion {
  ir::BrickKind fused;
  int matrices;  // weight operands after the activation
};

std::optional<Fusion> fusion_for(ir::BrickKind consumer) {
  switch (consumer) {
    case ir::BrickKind::Matvec:
      return Fusion{ir::BrickKind::RmsnormMatvec, 1};
    case ir::BrickKind::Qkv:
      return Fusion{ir::BrickKind::RmsnormQkv, 3};
    case ir::BrickKind::GateUpSwiglu:
      return Fusion{ir::BrickKind::RmsnormGateUpSwiglu, 2};
    case ir::BrickKind::LmHead:
      return Fusion{ir::BrickKind::RmsnormLmHead, 1};
    default:
      return std::nullopt;
  }
}

}  // namespace

void fuse_rmsnorm_matvec(ir::Graph& g, const PassOptions&) {
  Uses uses(g);
  auto& bricks = g.bricks();
  std::vector<bool> dead(bricks.size(), false);
  for (size_t i = 0; i < bricks.size(); ++i) {
    const ir::Brick& n = bricks[i];
    if (n.kind != ir::BrickKind::Rmsnorm) continue;
    const ir::ValueId h = n.results[0];
    auto u = uses.single_user(h);
    if (!u) continue;
    const ir::Brick& m = bricks[*u];
    auto f = fusion_for(m.kind);
    if (!f || m.operands[0] != h) continue;
    bool reads_h_once = true, int8 = true;
    for (size_t k = 1; k < m.operands.size(); ++k)
      reads_h_once = reads_h_once && m.operands[k] != h;
    for (int w = 1; w <= f->matrices; ++w)
      int8 = int8 && int8_dot_weight(g.type(m.operands[w]).elem);
    const DType elem = g.type(h).elem;
    if (!reads_h_once || !(elem == DType::F32 || (elem == ir::kInt8Activations && int8)))
      continue;
    std::vector<ir::ValueId> ops{n.operands[0], n.operands[1]};
    ops.insert(ops.end(), m.operands.begin() + 1, m.operands.end());
    ir::Brick fused{f->fused, std::move(ops), m.results, n.attrs, m.layer, std::nullopt, m.loc};
    dead[i] = true;
    bricks[*u] = std::move(fused);
  }
  erase_bricks(g, dead);
}

}  // namespace brickc::passes
