// --verify: the brick assertions checked on every brick of a real decode. A Verifier takes
// over the backend's steps (Decoder::set_step_fn) and checks each brick against the CPU
// reference brick on the same inputs (runtime/brick_check.h), in a reference executor over
// the graph the backend runs. Under Jidoka a failed assertion stops the line.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frontend/gguf/reader.h"
#include "runtime/brick_check.h"
#include "runtime/session.h"

namespace brickc::cpu {
class GraphExecutor;
}

namespace brickc::runtime {

struct VerifyStats {
  struct Kind {
    int64_t checks = 0, failures = 0;
    double worst_ratio = 0;  // largest max_rel / tolerance
  };
  int64_t steps = 0, checks = 0, failures = 0;
  // The check closest to (or furthest past) its tolerance; a non-finite result first.
  std::optional<BrickResult> worst;
  std::vector<BrickResult> failed;  // the first kKeptFailures
  std::map<std::string, Kind> by_kind;  // IR keyword -> counts
  static constexpr size_t kKeptFailures = 32;
};

class Verifier {
 public:
  // The reference runs the backend's graph over `file` on `threads` CPU threads, built at
  // the first step; `file` must outlive the verifier.
  Verifier(const gguf::File& file, int threads);
  ~Verifier();

  // Takes over every later step of `d`; fails if its backend cannot run bricks one at a
  // time. The verifier must outlive d's steps.
  void attach(Decoder& d);
  // Gives d its own steps back.
  static void detach(Decoder& d);
  // Jidoka (the default): a step with a failed check is an error that names every failed
  // brick. Off, failures are only counted (cbtop's assertions panel).
  void set_stop_on_failure(bool stop) { stop_ = stop; }

  // One step on `dut` checked brick by brick (a decode token, or a T-token graph's chunk of
  // prompt tokens); this step's results.
  std::vector<BrickResult> step(BrickStepper& dut, std::span<const int32_t> tokens, int64_t pos);
  const VerifyStats& stats() const { return stats_; }

 private:
  const gguf::File& file_;
  int threads_;
  std::map<const BrickStepper*, std::unique_ptr<cpu::GraphExecutor>> refs_;
  VerifyStats stats_;
  bool stop_ = true;
};

// "verify: 14 steps, 2562 brick checks, 0 failed; closest to its tolerance: rmsnorm_qkv
// %q.3 at 0.41 of it (0.03)", for the end of a run.
std::string format_verify(const VerifyStats& s);

}  // namespace brickc::runtime
