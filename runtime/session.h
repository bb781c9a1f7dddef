// The generation loop shared by `brickc run` and `brickc chat`: feed a prompt, then
// sample, stream and feed back tokens until an end-of-generation token, the -n limit, a
// full context or an interrupt. Backend-agnostic (the model is a Decoder); not prompt
// building, not text decoding.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "runtime/bench/block_trace.h"
#include "runtime/bench/brick_phases.h"
#include "runtime/sampling/sampler.h"

namespace brickc::ir {
class Graph;
}

namespace brickc::runtime {

class BrickStepper;

// What the loop needs of a backend: a KV cache that positions are appended to.
class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual int64_t n_ctx() const = 0;   // KV cache positions
  virtual int64_t n_past() const = 0;  // positions filled
  // Evaluates `tokens` (not empty) at positions n_past()...
  virtual void prefill(std::span<const int32_t> tokens) = 0;
  virtual void decode(int32_t token) = 0;
  virtual void reset() = 0;  // empties the cache
  // Keeps the first n positions of the cache (n <= n_past()); later tokens go at n.
  // Logits are current again after the next evaluation. For prompt reuse.
  virtual void rewind(int64_t n) = 0;
  // The logits of the last evaluated position.
  virtual std::span<const float> logits() = 0;
  // The first index of the largest of logits(), as greedy sampling picks it. A GPU backend
  // computes it on the device, so that greedy decoding reads back one int, not the logits.
  virtual int32_t argmax();
  // Backends that time every brick of a step (the GPU with tracing on, the CPU graph
  // engine): the graph they run and the last step's µs per brick; null / empty otherwise.
  virtual const ir::Graph* profiled_graph() const { return nullptr; }
  virtual std::vector<double> last_brick_us() { return {}; }
  // last_brick_us() and, on the GPU, per brick the fraction (0..1) of its time that the
  // device's SMs were busy and its phases (cuda/trace_span.h; both empty elsewhere), from
  // one read of the trace.
  struct BrickTimes {
    std::vector<double> us, sm_busy;
    std::vector<bench::BrickPhases> phases;
  };
  virtual BrickTimes last_brick_times() { return {last_brick_us(), {}, {}}; }
  // The last step's stamps block by block (the GPU with tracing on; empty elsewhere).
  virtual std::vector<bench::LaunchStamps> last_launch_stamps() { return {}; }
  // --verify: every later step runs through `fn` instead of the backend's own step. fn
  // must run every brick once, in order, on the executor it is given, so that the cache
  // and the logits come out as a step leaves them; an empty fn restores normal steps.
  // False where the backend cannot run its bricks one at a time.
  // A step is one decode token or a chunk of prompt tokens (a T-token graph's step).
  using StepFn = std::function<void(BrickStepper&, std::span<const int32_t> tokens, int64_t pos)>;
  virtual bool set_step_fn(StepFn fn) {
    (void)fn;
    return false;
  }
};

// What every Decoder checks before evaluating `tokens` at position n_past: not empty, every
// id in [0, n_vocab), and room in the n_ctx positions of its cache.
void check_tokens(std::span<const int32_t> tokens, int64_t n_past, int64_t n_ctx, int64_t n_vocab);
// What every Decoder checks before rewind(n): 0 <= n <= n_past.
void check_rewind(int64_t n, int64_t n_past);

enum class StopReason { kEndOfGeneration, kLimit, kContextFull, kInterrupted };
std::string_view describe(StopReason r);

struct GenerateOptions {
  int64_t n_predict = -1;            // < 0: no limit
  std::vector<int32_t> eog;           // ascending; tokens that end generation (none: empty)
  std::function<bool()> interrupted;  // polled after each streamed token
};

struct GenerateStats {
  int64_t n_prompt = 0;     // tokens evaluated by the prefill
  int64_t n_generated = 0;  // tokens streamed (an end-of-generation token is not)
  int64_t n_decoded = 0;    // generated tokens fed back one at a time
  double t_prefill = 0;     // s
  double t_first_token = 0;  // s from the call to the first sampled token
  double t_decode = 0;       // s spent in the n_decoded decode steps and their sampling
  StopReason stop = StopReason::kLimit;
};

// Called with each generated token, in order, before it is fed back.
using TokenFn = std::function<void(int32_t)>;

// A conversation with one model: the cache holds every token given or generated so far,
// except the last generated one when the loop stopped before feeding it, which is fed
// in front of the next prompt. Prompt tokens are accepted into the sampler (for the
// penalties), as llama.cpp's tools do.
class Session {
 public:
  Session(Decoder& model, sampling::Sampler& sampler) : model_(model), sampler_(sampler) {}

  // Positions the conversation takes, the unfed token included.
  int64_t n_tokens() const { return model_.n_past() + (unfed_ ? 1 : 0); }
  int64_t n_ctx() const { return model_.n_ctx(); }

  // Error if the prompt is empty or does not fit the context left.
  GenerateStats generate(std::span<const int32_t> prompt, const GenerateOptions& o,
                         const TokenFn& on_token);
  // Empties the cache and the sampler's window, and restarts its generator.
  void reset();
  // Continues from a cache an earlier conversation left, whose first cached.size()
  // positions hold `cached`: the decoder keeps those, and the sampler restarts as reset()
  // does and accepts them, as if they were the start of this conversation's prompt. The
  // next generate() then takes the rest of the prompt.
  void resume(std::span<const int32_t> cached);

 private:
  Decoder& model_;
  sampling::Sampler& sampler_;
  std::optional<int32_t> unfed_;
};

}  // namespace brickc::runtime
