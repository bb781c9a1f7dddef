#include "runtime/bench/protocol.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>

#include "ir/error.h"

namespace brickc::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

void check(const BenchSettings& s, int64_t n_ctx, int32_t n_vocab) {
  if (s.n_prompt < 1) fail("bench: the prompt length must be at least 1, got {}", s.n_prompt);
  if (s.n_gen < 1) fail("bench: the generated length must be at least 1, got {}", s.n_gen);
  if (s.reps < 1) fail("bench: repetitions must be at least 1, got {}", s.reps);
  if (s.warmup < 0) fail("bench: warm-up repetitions must be at least 0, got {}", s.warmup);
  if (s.depth < 0) fail("bench: the depth must be at least 0, got {}", s.depth);
  if (n_vocab < 1) fail("bench: the vocabulary is empty");
  // As llama-bench sizes its context: depth + n_prompt + n_gen.
  const int64_t need = int64_t{s.depth} + s.n_prompt + s.n_gen;
  if (need > n_ctx)
    fail("bench: {}prompt ({} tokens) + generation ({} tokens) = {} positions exceed the "
         "context length {}",
         s.depth > 0 ? fmt::format("depth ({} tokens) + ", s.depth) : "", s.n_prompt, s.n_gen,
         need, n_ctx);
}

// Empties the cache and fills it with `context`; the argmax() waits for an asynchronous
// backend, so that none of this work runs into the clock that starts next.
void fill(runtime::Decoder& d, std::span<const int32_t> context) {
  d.reset();
  if (context.empty()) return;
  d.prefill(context);
  d.argmax();
}

RepTiming run_rep(runtime::Decoder& d, const std::vector<int32_t>& prompt,
                  const std::vector<int32_t>& context, int n_gen) {
  RepTiming r;
  fill(d, context);
  const auto t0 = Clock::now();
  d.prefill(prompt);
  d.argmax();
  r.ttft_s = seconds(t0, Clock::now());
  r.step_s = greedy_steps(d, prompt[0], n_gen, {}, context);
  return r;
}

}  // namespace

std::vector<double> greedy_steps(runtime::Decoder& d, int32_t first, int n,
                                 const std::function<void()>& after_step,
                                 std::span<const int32_t> context,
                                 const std::function<void()>& after_fill) {
  std::vector<double> s;
  s.reserve(static_cast<size_t>(n));
  fill(d, context);
  if (after_fill) after_fill();
  int32_t tok = first;
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    if (i == 0)
      d.prefill({&tok, 1});
    else
      d.decode(tok);
    tok = d.argmax();
    s.push_back(seconds(t0, Clock::now()));
    if (after_step) after_step();
  }
  return s;
}

BenchTokens bench_tokens(const BenchSettings& settings, int32_t n_vocab, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int32_t> pick(0, n_vocab - 1);
  BenchTokens t{std::vector<int32_t>(settings.n_prompt), std::vector<int32_t>(settings.depth)};
  for (int32_t& id : t.prompt) id = pick(gen);
  for (int32_t& id : t.context) id = pick(gen);
  return t;
}

BenchResult run_bench(runtime::Decoder& d, const BenchSettings& settings, int32_t n_vocab,
                      uint32_t seed) {
  check(settings, d.n_ctx(), n_vocab);
  const auto [prompt, context] = bench_tokens(settings, n_vocab, seed);

  for (int i = 0; i < settings.warmup; ++i) run_rep(d, prompt, context, settings.n_gen);
  BenchResult r;
  r.settings = settings;
  for (int i = 0; i < settings.reps; ++i) {
    RepTiming t = run_rep(d, prompt, context, settings.n_gen);
    const double decode_s = std::accumulate(t.step_s.begin(), t.step_s.end(), 0.0);
    // A clock too coarse to see a step would divide by zero; the floor keeps the rate finite.
    r.prefill_tps.push_back(settings.n_prompt / std::max(t.ttft_s, 1e-9));
    r.decode_tps.push_back(settings.n_gen / std::max(decode_s, 1e-9));
    r.ttft_ms.push_back(t.ttft_s * 1e3);
    for (double s : t.step_s) r.token_ms.push_back(s * 1e3);
    r.reps.push_back(std::move(t));
  }
  d.reset();
  r.prefill = summarize(r.prefill_tps);
  r.decode = summarize(r.decode_tps);
  r.ttft = summarize(r.ttft_ms);
  r.token_latency = summarize(r.token_ms);
  return r;
}

std::vector<std::string> stability_problems(const BenchResult& r, double max_cv,
                                            double max_tail) {
  std::vector<std::string> out;
  for (const auto& [what, s] : {std::pair{"prefill", &r.prefill}, {"decode", &r.decode}})
    if (s->cv > max_cv)
      out.push_back(fmt::format("{} tok/s varies: CV {:.2f} % over {} repetitions exceeds {:.2f} %",
                                what, 100 * s->cv, s->n, 100 * max_cv));
  const Summary& t = r.token_latency;
  if (t.p99 > max_tail * t.p50)
    out.push_back(fmt::format(
        "per-token latency has a tail: p99 {:.3f} ms exceeds {:.1f} x p50 {:.3f} ms", t.p99,
        max_tail, t.p50));
  return out;
}

}  // namespace brickc::bench
