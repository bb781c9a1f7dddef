// The measuring protocol of `brickc bench`, on any Decoder (CPU or GPU): repetitions of a
// random-token prefill, then greedy decode steps (llama-bench's pp and tg tests), each after
// an untimed fill of the cache to a depth (llama-bench's -d; none by default), warm-up
// repetitions discarded, every decode step's latency kept. Not the printing or the JSON
// (tools/brickc/bench_cmd.cpp).
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "runtime/bench/stats.h"
#include "runtime/session.h"

namespace brickc::bench {

struct BenchSettings {
  int n_prompt = 512;  // prefill tokens per repetition (llama-bench's pp512)
  int n_gen = 128;     // decode steps per repetition (tg128)
  int reps = 100;      // measured repetitions
  int warmup = 10;     // repetitions run first and discarded
  int depth = 0;       // positions filled, untimed, before each pp and tg test (-d)
};

// One measured repetition. Times come from steady_clock around calls that end with a token
// id read back (argmax), so an asynchronous backend has finished its work when the clock
// stops.
struct RepTiming {
  double ttft_s = 0;         // prefill(n_prompt tokens at positions depth..) + the first argmax()
  // Each decode step, from a cache of `depth` positions: prefill(1 token) or decode(token),
  // + argmax().
  std::vector<double> step_s;
};

struct BenchResult {
  BenchSettings settings;
  std::vector<RepTiming> reps;  // measured ones only, in order
  // One value per measured repetition: n_prompt / ttft_s, n_gen / sum(step_s), ttft in ms.
  std::vector<double> prefill_tps, decode_tps, ttft_ms;
  std::vector<double> token_ms;  // every decode step of every measured repetition, in order
  Summary prefill, decode, ttft, token_latency;
};

// The bench's token ids: n_prompt drawn uniformly from [0, n_vocab) by a generator seeded
// with `seed`, then the context's `depth` ids (after the prompt's, so that a depth leaves
// the prompt as it was without one).
struct BenchTokens {
  std::vector<int32_t> prompt, context;
};
BenchTokens bench_tokens(const BenchSettings& settings, int32_t n_vocab, uint32_t seed);

// Runs settings.warmup + settings.reps repetitions; the prefill and the generation each
// start from an empty cache (reset()) filled with `depth` context tokens, untimed and
// synchronized (an argmax() read back) before the clock starts. The tokens are
// bench_tokens', the same for every repetition. Errors: settings out of range (n_prompt,
// n_gen, reps >= 1, warmup, depth >= 0), n_vocab < 1, depth + n_prompt + n_gen > d.n_ctx().
BenchResult run_bench(runtime::Decoder& d, const BenchSettings& settings, int32_t n_vocab,
                      uint32_t seed);

// n greedy decode steps, as llama-bench's tg test: the cache emptied and filled with
// `context` (untimed), `first` at the position after it, then each step's argmax fed back.
// The seconds of each step (its feed and argmax); `after_step`, if set, runs after each
// one, outside its time, and `after_fill` once between the fill and the first step.
std::vector<double> greedy_steps(runtime::Decoder& d, int32_t first, int n,
                                 const std::function<void()>& after_step = {},
                                 std::span<const int32_t> context = {},
                                 const std::function<void()>& after_fill = {});

// Why a result is not a stable measurement (`brickc bench --stat-check`): a prefill or
// decode rate whose coefficient of variation over repetitions exceeds max_cv, or a
// per-token latency whose p99 exceeds max_tail times its p50. Empty when stable.
std::vector<std::string> stability_problems(const BenchResult& r, double max_cv = 0.05,
                                            double max_tail = 2.0);

}  // namespace brickc::bench
