// Perplexity of a token sequence as llama.cpp's llama-perplexity computes it (its default
// mode), on any Decoder: chunks of n_ctx tokens, each evaluated from an empty cache, the
// second half of each chunk scored by the negative log-likelihood of the next token. Not
// the tokenizing or the printing (tools/brickc/perplexity_cmd.cpp).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/session.h"

namespace brickc::runtime {

// -log softmax(logits)[token], in double with the largest logit subtracted first, as
// llama.cpp's log_softmax. `token` must index `logits`.
double token_nll(std::span<const float> logits, int32_t token);

// Per-token NLL summed, with its square for the uncertainty.
struct NllSum {
  double nll = 0, nll2 = 0;
  int64_t count = 0;

  void add(double v) {
    nll += v;
    nll2 += v * v;
    ++count;
  }
  void add(const NllSum& o) {
    nll += o.nll;
    nll2 += o.nll2;
    count += o.count;
  }
  double ppl() const;  // exp(mean NLL)
  // llama.cpp's "+/-": ppl * sqrt((mean(v^2) - mean(v)^2) / (count - 1)), the standard error
  // of the mean NLL carried through exp. None where that variance is not positive (llama.cpp
  // then prints no estimate) or count < 2.
  std::optional<double> ppl_error() const;
};

struct PerplexityOptions {
  std::string source;  // where the tokens came from, for error messages
  int64_t n_ctx = 512;
  int64_t max_chunks = -1;     // < 0: as many as the tokens fill
  std::optional<int32_t> bos;  // the vocabulary adds BOS: each chunk starts with it
};

// Feeds the chunks to a decoder whose logits of every position come to observe() (the
// backend's per-position callback, BackendOptions::each), and sums their NLL.
class Perplexity {
 public:
  // Errors: n_ctx < 3 (a chunk scores positions n_ctx/2 .. n_ctx-2), fewer than 2 * n_ctx
  // tokens (llama.cpp's minimum; both numbers named), max_chunks == 0.
  Perplexity(std::vector<int32_t> tokens, const PerplexityOptions& o);

  // min(max_chunks, n_tokens / n_ctx).
  int64_t n_chunks() const { return n_chunks_; }
  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_tokens() const { return static_cast<int64_t>(tokens_.size()); }

  // The logits at position `pos` of the chunk being evaluated.
  void observe(int64_t pos, std::span<const float> logits);

  // Evaluates chunk i (tokens [i n_ctx, (i + 1) n_ctx)) with one prefill from an empty
  // cache and adds its scored positions to sum(); the seconds the prefill took. Error if
  // the decoder's context is shorter than n_ctx or a scored position's logits never came.
  double run_chunk(Decoder& d, int64_t i);

  const NllSum& sum() const { return sum_; }

 private:
  std::vector<int32_t> tokens_;
  int64_t n_ctx_, n_chunks_, first_;
  std::optional<int32_t> bos_;
  std::vector<int32_t> chunk_;  // the chunk being evaluated, BOS in front where added
  NllSum chunk_sum_;
  NllSum sum_;
};

}  // namespace brickc::runtime
