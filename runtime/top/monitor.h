// The engine behind `brickc top` (cbtop): a background thread that decodes greedily on any
// Decoder that times its bricks, and keeps rolling statistics of the last steps (per-brick
// µs, step wall time) plus brick assertions from a verified step every N steps. The UI
// reads consistent copies (snapshot()); this unit draws nothing (frame.h does).
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "frontend/gguf/reader.h"
#include "ir/graph.h"
#include "runtime/bench/brick_profile.h"
#include "runtime/top/nvml.h"
#include "runtime/verify.h"

namespace brickc::top {

struct MonitorOptions {
  std::string model, device;  // labels for the header
  std::string budget_profile = "cpu";  // the device profile budgets come from
  size_t window = 256;        // timed steps the statistics cover
  // Steps after the start that are neither timed nor verified: the first steps pay for
  // page faults, thread start-up and cold caches.
  int64_t warmup = 4;
  int64_t verify_every = 64;  // 0: never; else the first step after warm-up and every Nth
  int verify_threads = 1;     // CPU threads of the reference
  int prompt_tokens = 8;      // random ids fed before the greedy steps, again at each restart
  uint32_t seed = 1234;
  int64_t max_samples = 0;  // 0: run until stop(); else stop after this many timed steps
};

struct Snapshot {
  std::string model, device;
  double bandwidth_gbs = 0;
  int64_t steps = 0;     // decode steps run, warm-up and verified ones included
  int64_t samples = 0;   // timed steps since the start (the window holds the last ones)
  int64_t restarts = 0;  // times the context filled and generation started over
  std::optional<bench::ProfileReport> profile;  // over the window; none before a timed step
  std::vector<double> step_us;  // wall time (decode + argmax) of each step in the window

  int64_t verify_every = 0;
  std::string verify_unavailable;  // why no step is verified, when verify_every > 0
  runtime::VerifyStats verify;
  std::map<std::string, int64_t> non_finite;  // brick kind -> results with a NaN or an Inf

  // Not the monitor's: the UI reads the GPU (nvml.h) only while that panel shows.
  std::optional<GpuReading> gpu;

  bool running = true;
  std::string error;  // why the generator stopped, if it failed
};

class Monitor {
 public:
  // Starts generating on `d`, which must time its bricks (Decoder::profiled_graph). `file`
  // is d's model (the prompt's vocabulary, the verifier's reference); both must outlive
  // the monitor, and nothing else may use d until it is stopped. Errors: no brick timing,
  // a context too short for the prompt.
  Monitor(runtime::Decoder& d, const gguf::File& file, const MonitorOptions& o);
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  Snapshot snapshot() const;
  // Blocks until `samples` timed steps were taken, the generator stopped or `timeout`
  // passed; then a snapshot.
  Snapshot wait_for_samples(int64_t samples, std::chrono::milliseconds timeout) const;
  // Ends the generator after its current step and joins it; idempotent.
  void stop();

 private:
  void generate();
  void restart(int32_t& token);  // empties the cache and feeds the prompt again
  void step(int32_t& token, bool timed);
  void verified_step(int32_t& token);

  runtime::Decoder& d_;
  const gguf::File& file_;
  const MonitorOptions o_;
  const ir::Graph graph_;  // a copy: snapshot() reads it while the generator runs
  bool verify_;            // generator thread only: off when the backend cannot verify
  std::vector<int32_t> prompt_;
  std::unique_ptr<runtime::Verifier> verifier_;  // generator thread only
  std::map<std::string, int64_t> non_finite_;    // generator thread only, published below

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::deque<std::vector<double>> brick_us_;  // the window, oldest first
  std::deque<double> step_us_;
  std::deque<int64_t> kv_len_;  // positions each step attended
  Snapshot published_;  // every field but the window's

  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace brickc::top
