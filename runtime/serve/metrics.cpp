#include "runtime/serve/metrics.h"

#include <fmt/core.h>

namespace brickc::serve {
namespace {

void add(std::string& out, std::string_view name, std::string_view type, std::string_view help,
         double value) {
  out += fmt::format("# HELP brickc_{} {}\n# TYPE brickc_{} {}\nbrickc_{} {}\n", name, help, name,
                     type, name, value);
}

}  // namespace

std::string Metrics::prometheus_text() const {
  std::string out;
  add(out, "requests_total", "counter", "HTTP requests answered.", requests.load());
  add(out, "completions_total", "counter", "Generation requests finished.", completions.load());
  add(out, "prompt_tokens_total", "counter", "Prompt tokens evaluated.", prompt_tokens.load());
  add(out, "prompt_tokens_cached_total", "counter", "Prompt tokens reused from the cache.",
      cached_tokens.load());
  add(out, "generated_tokens_total", "counter", "Tokens generated.", generated_tokens.load());
  add(out, "prefill_tokens_per_second", "gauge", "Prefill speed of the last request.",
      prefill_tok_s.load());
  add(out, "decode_tokens_per_second", "gauge", "Decode speed of the last request.",
      decode_tok_s.load());
  add(out, "requests_waiting", "gauge", "Requests waiting for the model.", waiting.load());
  add(out, "requests_processing", "gauge", "Requests generating now.", processing.load());
  return out;
}

}  // namespace brickc::serve
