// quantize-activations: a norm, SwiGLU or attention whose every reader is an int8 matvec
// (all its weights in a GGUF integer block format) emits q8_1 instead of f32. The producer
// quantizes in its epilogue (one pass over a short vector) and each reader then loads a
// quarter of the bytes and feeds dp4a directly (DESIGN.md §6, llama.cpp's Q8_1 path):
// attention's output is quantized once rather than by every block of the o-proj.
// A norm fused into its reader (rmsnorm_qkv, rmsnorm_gate_up_swiglu, ...) has no value
// left to retype: the composite quantizes its normalized x itself by the same rule
// (ir/brick.h), and its own x, the residual, stays f32 for the norm.
#include "passes/pass.h"
#include "passes/rewrite.h"

namespace brickc::passes {
namespace {

constexpr int64_t kQ81Block = 32;

bool may_quantize_output(ir::BrickKind k) {
  return k == ir::BrickKind::Rmsnorm || k == ir::BrickKind::Swiglu ||
         k == ir::BrickKind::GateUpSwiglu || k == ir::BrickKind::RmsnormGateUpSwiglu ||
         k == ir::BrickKind::Attention;
}

// Reads v only as its activation (operand 0), with int8-dot weights only.
bool int8_reader(const ir::Graph& g, const ir::Brick& b, ir::ValueId v) {
  int n_weights = 1;
  switch (b.kind) {
    case ir::BrickKind::Matvec:
    case ir::BrickKind::LmHead:
    case ir::BrickKind::MatvecAdd:
      break;
    case ir::BrickKind::Qkv:
      n_weights = 3;
      break;
    case ir::BrickKind::GateUpSwiglu:
      n_weights = 2;
      break;
    default:
      return false;
  }
  for (size_t i = 1; i < b.operands.size(); ++i)
    if (b.operands[i] == v) return false;
  if (b.operands[0] != v) return false;
  for (int w = 1; w <= n_weights; ++w)
    if (!int8_dot_weight(g.type(b.operands[w]).elem)) return false;
  return true;
}

}  // namespace

void quantize_activations(ir::Graph& g, const PassOptions&) {
  // A T-token step's matrix products run on tensor cores over f16 activations that each
  // GEMM converts from f32 itself (codegen/ptx/kernels/gemm.cuh): q8_1 is a decode format.
  if (g.n_tokens > 1) return;
  Uses uses(g);
  for (const auto& b : g.bricks()) {
    if (!may_quantize_output(b.kind)) continue;
    ir::ValueId out = b.results[0];
    ir::TensorType& t = g.value(out).type;
    if (t.elem != DType::F32 || t.shape.ne0() % kQ81Block != 0 || uses.is_output(out) ||
        uses.users(out).empty())
      continue;
    bool all_int8 = true;
    for (size_t u : uses.users(out)) all_int8 = all_int8 && int8_reader(g, g.bricks()[u], out);
    if (all_int8) t.elem = ir::kInt8Activations;
  }
}

}  // namespace brickc::passes
