// What checking a backend brick by brick needs of its executor: run one brick of the decode
// step at a time and read or overwrite any value between bricks. The CPU and CUDA
// executors both provide it, so --verify holds either one against the CPU reference; their
// decoders share SteppedDecoder, which lets --verify take over their steps.
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "ir/error.h"
#include "ir/graph.h"
#include "runtime/session.h"

namespace brickc::runtime {

class BrickStepper {
 public:
  virtual ~BrickStepper() = default;
  virtual const ir::Graph& graph() const = 0;
  // A whole step of `tokens` at positions pos .. (one token for a decode graph, up to T for
  // a T-token graph), the backend's own (fast) way.
  virtual void step(std::span<const int32_t> tokens, int64_t pos) = 0;
  void step(int32_t token, int64_t pos) { step(std::span(&token, 1), pos); }
  // The step inputs (%tok, %pos) for the bricks run next: tokens at positions pos ..
  // (at most the graph's n_tokens of them).
  virtual void set_step(std::span<const int32_t> tokens, int64_t pos) = 0;
  void set_step(int32_t token, int64_t pos) { set_step(std::span(&token, 1), pos); }
  // Runs brick i (index in graph().bricks()) and waits for it.
  virtual void run_brick(size_t i) = 0;
  // Elements [offset, offset + count) of a non-weight value as f32; an i32 value is one
  // element. Ranges serve the KV caches, whose positions are contiguous rows.
  virtual std::vector<float> read(ir::ValueId v, int64_t offset, int64_t count) = 0;
  virtual void write(ir::ValueId v, int64_t offset, std::span<const float> values) = 0;

  // How the backend rounds activations, which sets how far each brick may stray from the
  // f32 reference (brick_tolerance): not at all (the CPU's f32 engines), inside every
  // int8-weight matrix brick from its f32 input (the CPU's int8 engine), or to q8_1 where
  // the graph says so, stored rounded, and inside the bricks whose input is f32 (the GPU).
  enum class Rounding { kNone, kInBrick, kStoredQ8_1 };
  virtual Rounding rounding() const = 0;
  // True when step() is not the bricks run in order but one fused program (the GPU's
  // megakernel): --verify then also holds step()'s logits to the bricks' bit for bit.
  virtual bool fused_step() const { return false; }
};

// What every executor checks of a step of `tokens` tokens at `pos`: 1 to the graph's
// n_tokens of them, every position inside the cache. Returns the count.
inline int64_t check_step_range(const ir::Graph& g, size_t tokens, int64_t pos, int64_t max_ctx) {
  const auto n = static_cast<int64_t>(tokens);
  if (n < 1 || n > g.n_tokens)
    fail("graph @{}: a step of {} tokens; this graph takes 1..{}", g.name, n, g.n_tokens);
  if (pos < 0 || pos + n > max_ctx)
    fail("positions {}..{} are outside the KV cache (0..{})", pos, pos + n - 1, max_ctx - 1);
  return n;
}

// A Decoder over a BrickStepper: each position goes through step(), which is the
// executor's own step unless --verify has set a step fn (Decoder::set_step_fn).
class SteppedDecoder : public Decoder {
 public:
  bool set_step_fn(StepFn fn) final {
    step_fn_ = std::move(fn);
    return true;
  }

 protected:
  void step(BrickStepper& exec, std::span<const int32_t> tokens, int64_t pos) {
    if (step_fn_) {
      step_fn_(exec, tokens, pos);
    } else {
      exec.step(tokens, pos);
    }
  }
  void step(BrickStepper& exec, int32_t token, int64_t pos) { step(exec, std::span(&token, 1), pos); }

  // The prompt loop of every decoder: `tokens` at positions n_past .. one at a time through
  // `one` (the decode graph), or, with `batch` (a T-token graph) and two or more tokens, in
  // chunks of up to its n_tokens. `each` sees every position's logits (then `batch` is a
  // graph of all logits); `before` runs before each step. Exec provides logits_rows(), the
  // last step's rows. Returns the executor of the last step, whose logits are current.
  template <class Exec>
  Exec& evaluate(Exec& one, Exec* batch, std::span<const int32_t> tokens, int64_t& n_past,
                 const std::function<void(int64_t, std::span<const float>)>& each,
                 const std::function<void(Exec&)>& before = {}) {
    const bool batched = batch && tokens.size() > 1;
    Exec& e = batched ? *batch : one;
    const size_t chunk = batched ? static_cast<size_t>(batch->graph().n_tokens) : 1;
    for (size_t i = 0; i < tokens.size(); i += chunk) {
      const auto part = tokens.subspan(i, std::min(chunk, tokens.size() - i));
      if (before) before(e);
      step(e, part, n_past);
      if (each) {
        const auto rows = e.logits_rows();
        const size_t vocab = rows.size() / part.size();
        for (size_t t = 0; t < part.size(); ++t)
          each(n_past + static_cast<int64_t>(t), rows.subspan(t * vocab, vocab));
      }
      n_past += static_cast<int64_t>(part.size());
    }
    return e;
  }

 private:
  StepFn step_fn_;
};

}  // namespace brickc::runtime
