// canonicalize: dead-brick elimination. A brick is live if the step returns one of its
// results, a live brick reads one, or it writes state: a KV append must persist for the
// next step even where nothing in this step reads the updated cache.
#include "passes/pass.h"
#include "passes/rewrite.h"

namespace brickc::passes {

void canonicalize(ir::Graph& g, const PassOptions&) {
  auto& bricks = g.bricks();
  std::vector<bool> live_value(g.value_count(), false);
  for (ir::ValueId o : g.outputs) live_value[o.index] = true;
  std::vector<bool> dead(bricks.size(), false);
  for (size_t i = bricks.size(); i-- > 0;) {
    const auto& b = bricks[i];
    bool live = b.kind == ir::BrickKind::KvAppend || b.kind == ir::BrickKind::RopeKvAppend;
    for (ir::ValueId r : b.results) live = live || live_value[r.index];
    dead[i] = !live;
    if (live)
      for (ir::ValueId o : b.operands) live_value[o.index] = true;
  }
  erase_bricks(g, dead);
}

}  // namespace brickc::passes
