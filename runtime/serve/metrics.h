// What `brickc serve` counts, written out in Prometheus' text format for GET /metrics.
// Counters only grow; gauges hold the last request's speeds and the queue. Thread-safe.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>

namespace brickc::serve {

struct Metrics {
  std::atomic<int64_t> requests{0};          // HTTP requests answered, every endpoint
  std::atomic<int64_t> completions{0};       // generation requests finished
  std::atomic<int64_t> prompt_tokens{0};     // evaluated by prefills
  std::atomic<int64_t> cached_tokens{0};     // of prompts, reused from the cache instead
  std::atomic<int64_t> generated_tokens{0};  // sampled and returned
  std::atomic<double> prefill_tok_s{0};      // the last request's
  std::atomic<double> decode_tok_s{0};
  std::atomic<int64_t> waiting{0};     // admitted, waiting for the model
  std::atomic<int64_t> processing{0};  // generating now (0 or 1 without batching)

  std::string prometheus_text() const;
};

}  // namespace brickc::serve
