#include "runtime/brick_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "ir/error.h"

namespace brickc::runtime {
namespace {

bool int8_weights(const ir::Graph& g, const ir::Brick& b) {
  for (ir::ValueId v : b.operands) {
    const ir::Value& w = g.value(v);
    if (w.kind == ir::ValueKind::Weight && w.type.shape.dims.size() == 2)
      return w.type.elem != DType::F16 && w.type.elem != DType::F32;
  }
  return false;
}

// Elements per position of a KV cache [head_dim, n_kv_heads, max_ctx]; 0 for other values.
int64_t cache_row(const ir::Graph& g, ir::ValueId v) {
  const auto& d = g.type(v).shape.dims;
  return d.size() == 3 ? d[0] * d[1] : 0;
}

int64_t elements(const ir::Graph& g, ir::ValueId v) {
  return g.type(v).elem == DType::I32 ? 1 : g.type(v).shape.elements();
}

}  // namespace

double brick_tolerance(const ir::Graph& g, const ir::Brick& b, ir::ValueId result,
                       BrickStepper::Rounding r) {
  using K = ir::BrickKind;
  using R = BrickStepper::Rounding;
  const bool q8_out = r == R::kStoredQ8_1 && g.type(b.results[0]).elem == DType::Q8_1;
  double tol = 1e-3;
  switch (b.kind) {
    case K::Embed: return 1e-5;
    case K::Argmax: return 0.0;
    default: break;
  }
  if (r == R::kNone) return tol;
  // A q8_0 cache row rounds inputs that differ in their last bits (the GPU's sincosf against
  // the CPU's sin and cos in rope_kv_append): a value on a rounding boundary moves by one
  // step of its block, up to 1/127 of the block's maximum.
  if (g.type(result).elem == DType::Q8_0) return tol + 1e-2;
  switch (b.kind) {
    case K::Matvec: case K::LmHead: case K::Qkv: case K::MatvecAdd: case K::GateUpSwiglu:
      // The brick quantizes an f32 input itself; on the GPU a q8_1 input arrives rounded.
      if (int8_weights(g, b) && (r == R::kInBrick || g.type(b.operands[0]).elem == DType::F32))
        tol = 3e-2;
      break;
    case K::RmsnormMatvec: case K::RmsnormQkv: case K::RmsnormLmHead: case K::RmsnormGateUpSwiglu:
      if (int8_weights(g, b)) tol = 3e-2;
      break;
    default: break;
  }
  return q8_out ? tol + 1e-2 : tol;
}

std::vector<BrickResult> check_step(BrickStepper& dut, BrickStepper& ref,
                                    std::span<const int32_t> tokens, int64_t pos) {
  const ir::Graph& g = dut.graph();
  if (g.bricks().size() != ref.graph().bricks().size())
    fail("check_step: the two executors run different graphs");
  dut.set_step(tokens, pos);
  ref.set_step(tokens, pos);
  const auto n = static_cast<int64_t>(tokens.size());
  // Elements of a result this step defines: the rows of its n tokens where it has T rows.
  auto step_elements = [&](ir::ValueId v) {
    const ir::Shape& s = g.type(v).shape;
    return g.n_tokens > 1 && s.rows() == g.n_tokens ? n * s.ne0() : elements(g, v);
  };
  std::vector<BrickResult> out;
  for (size_t i = 0; i < g.bricks().size(); ++i) {
    const ir::Brick& b = g.bricks()[i];
    for (ir::ValueId v : b.operands) {
      const ir::ValueKind k = g.value(v).kind;
      if (k == ir::ValueKind::Weight || k == ir::ValueKind::Input) continue;
      const int64_t row = cache_row(g, v);
      ref.write(v, 0, dut.read(v, 0, row ? (pos + n) * row : elements(g, v)));
    }
    dut.run_brick(i);
    ref.run_brick(i);
    for (ir::ValueId r : b.results) {
      BrickResult c;
      c.brick = i;
      c.kind = std::string(ir::keyword(b.kind));
      c.layer = b.layer;
      c.value = g.value(r).name;
      c.pos = pos;
      c.tolerance = brick_tolerance(g, b, r, dut.rounding());
      const int64_t row = cache_row(g, r);
      const int64_t at = row ? pos * row : 0, count = row ? n * row : step_elements(r);
      const std::vector<float> got = dut.read(r, at, count), want = ref.read(r, at, count);
      double scale = 0;
      for (size_t j = 0; j < got.size(); ++j) {
        c.finite = c.finite && std::isfinite(got[j]);
        c.max_abs = std::max(c.max_abs, static_cast<double>(std::fabs(got[j] - want[j])));
        scale = std::max(scale, static_cast<double>(std::fabs(want[j])));
      }
      // An i32 result (a token id) must match exactly: its error is the absolute one.
      c.max_rel = g.type(r).elem == DType::I32 ? c.max_abs : c.max_abs / std::max(scale, 1e-30);
      out.push_back(c);
    }
  }
  return out;
}

std::string describe(const BrickResult& r) {
  const std::string where =
      fmt::format("{} %{}{} at position {}", r.kind, r.value,
                  r.layer >= 0 ? fmt::format(" (layer {})", r.layer) : "", r.pos);
  if (!r.finite) return where + ": produced NaN or Inf";
  return fmt::format("{}: max abs error {:.3g}, max rel error {:.3g} > tolerance {:.3g}", where,
                     r.max_abs, r.max_rel, r.tolerance);
}

}  // namespace brickc::runtime
