#include "runtime/verify.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "ir/error.h"
#include "runtime/cpu/executor.h"

namespace brickc::runtime {
namespace {

// How far a check is into its tolerance: 1 is the bound; a non-finite result is infinitely far.
double ratio(const BrickResult& r) {
  if (!r.finite) return std::numeric_limits<double>::infinity();
  if (r.tolerance > 0) return r.max_rel / r.tolerance;
  return r.max_rel > 0 ? std::numeric_limits<double>::infinity() : 0.0;
}

// The fused step's logits against the bricks' (tolerance 0: the same kernel bodies).
BrickResult compare_fused(const ir::Graph& g, ir::ValueId logits, const std::vector<float>& fused,
                          const std::vector<float>& bricks, int64_t pos) {
  BrickResult r;
  for (size_t b = 0; b < g.bricks().size(); ++b)
    for (ir::ValueId v : g.bricks()[b].results)
      if (v == logits) r.brick = b;
  r.kind = "fused-step";
  r.value = g.value(logits).name;
  r.pos = pos;
  double scale = 0;
  bool differ = false;
  for (size_t i = 0; i < fused.size(); ++i) {
    r.finite = r.finite && std::isfinite(fused[i]);
    scale = std::max(scale, std::fabs(static_cast<double>(bricks[i])));
    if (std::memcmp(&fused[i], &bricks[i], 4) == 0) continue;
    differ = true;
    const double d = std::fabs(static_cast<double>(fused[i]) - bricks[i]);
    r.max_abs = std::max(r.max_abs, std::isfinite(d) ? d : INFINITY);
  }
  // Any differing bits fail (a NaN or a signed zero too): the same kernels ran.
  r.max_rel = !differ ? 0.0 : (r.max_abs > 0 && scale > 0 ? r.max_abs / scale : INFINITY);
  return r;
}

}  // namespace

Verifier::Verifier(const gguf::File& file, int threads) : file_(file), threads_(threads) {}

Verifier::~Verifier() = default;

void Verifier::attach(Decoder& d) {
  const bool ok = d.set_step_fn(
      [this](BrickStepper& dut, std::span<const int32_t> tokens, int64_t pos) {
        step(dut, tokens, pos);
      });
  if (!ok) fail("--verify: this backend cannot run its bricks one at a time");
}

void Verifier::detach(Decoder& d) { d.set_step_fn({}); }

std::vector<BrickResult> Verifier::step(BrickStepper& dut, std::span<const int32_t> tokens,
                                        int64_t pos) {
  // One reference per executor the backend steps (its decode graph, its T-token graph).
  auto& ref = refs_[&dut];
  if (!ref) ref = std::make_unique<cpu::GraphExecutor>(file_, dut.graph(), threads_);
  // A fused step (the megakernel) runs first; the bricks then recompute the same step
  // (rewriting the same cache rows), and their logits must equal its logits exactly.
  std::optional<std::vector<float>> fused;
  const ir::Graph& g = dut.graph();
  const auto logits = std::find_if(g.outputs.begin(), g.outputs.end(),
                                   [&](ir::ValueId v) { return g.type(v).elem == DType::F32; });
  if (dut.fused_step() && logits != g.outputs.end()) {
    dut.step(tokens, pos);
    fused = dut.read(*logits, 0, g.type(*logits).shape.elements());
  }
  std::vector<BrickResult> results = check_step(dut, *ref, tokens, pos);
  if (fused) results.push_back(compare_fused(g, *logits, *fused, dut.read(*logits, 0, static_cast<int64_t>(fused->size())), pos));
  ++stats_.steps;
  std::vector<const BrickResult*> failed;
  for (const BrickResult& r : results) {
    VerifyStats::Kind& k = stats_.by_kind[r.kind];
    ++k.checks;
    ++stats_.checks;
    k.worst_ratio = std::max(k.worst_ratio, ratio(r));
    if (!stats_.worst || ratio(r) > ratio(*stats_.worst)) stats_.worst = r;
    if (r.ok()) continue;
    ++k.failures;
    ++stats_.failures;
    failed.push_back(&r);
    if (stats_.failed.size() < VerifyStats::kKeptFailures) stats_.failed.push_back(r);
  }
  if (stop_ && !failed.empty()) {
    std::string msg = fmt::format("verify: {} of {} brick checks failed at position {}:",
                                  failed.size(), results.size(), pos);
    for (const BrickResult* r : failed) msg += "\n  " + describe(*r);
    fail("{}", msg);
  }
  return results;
}

std::string format_verify(const VerifyStats& s) {
  std::string out = fmt::format("verify: {} steps, {} brick checks, {} failed", s.steps, s.checks,
                                s.failures);
  if (s.worst && s.worst->ok())
    out += ratio(*s.worst) == 0
               ? "; every result equals the reference's"
               : fmt::format("; closest to its tolerance: {} %{} at {:.2g} of it ({:.3g})",
                             s.worst->kind, s.worst->value, ratio(*s.worst), s.worst->tolerance);
  return out + "\n";
}

}  // namespace brickc::runtime
