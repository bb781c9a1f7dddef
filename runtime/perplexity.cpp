#include "runtime/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "ir/error.h"

namespace brickc::runtime {

double token_nll(std::span<const float> logits, int32_t token) {
  // Subtracting the largest logit keeps every exp() in (0, 1]: no overflow, and the sum
  // is at least 1, so its log is well conditioned.
  const double max = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float l : logits) sum += std::exp(static_cast<double>(l) - max);
  return -(static_cast<double>(logits[static_cast<size_t>(token)]) - max - std::log(sum));
}

double NllSum::ppl() const { return std::exp(nll / static_cast<double>(count)); }

std::optional<double> NllSum::ppl_error() const {
  if (count < 2) return std::nullopt;
  const double mean = nll / static_cast<double>(count);
  const double var = nll2 / static_cast<double>(count) - mean * mean;
  if (!(var > 0)) return std::nullopt;
  return ppl() * std::sqrt(var / static_cast<double>(count - 1));
}

Perplexity::Perplexity(std::vector<int32_t> tokens, const PerplexityOptions& o)
    : tokens_(std::move(tokens)), n_ctx_(o.n_ctx), first_(o.n_ctx / 2), bos_(o.bos) {
  if (n_ctx_ < 3)
    fail("perplexity: the context length must be at least 3 (a chunk scores its positions "
         "n_ctx/2 .. n_ctx-2), got {}",
         n_ctx_);
  const int64_t n = n_tokens();
  if (n < 2 * n_ctx_)
    fail("perplexity: {} has {} tokens; a context of {} needs at least 2 * {} = {} (a longer "
         "text or a smaller context)",
         o.source.empty() ? "the text" : o.source, n, n_ctx_, n_ctx_, 2 * n_ctx_);
  if (o.max_chunks == 0) fail("perplexity: at least 1 chunk must be asked for, got 0");
  n_chunks_ = n / n_ctx_;
  if (o.max_chunks > 0) n_chunks_ = std::min(n_chunks_, o.max_chunks);
}

void Perplexity::observe(int64_t pos, std::span<const float> logits) {
  // Positions outside a chunk's scored half, or outside any chunk, count for nothing.
  if (chunk_.empty() || pos < first_ || pos >= n_ctx_ - 1) return;
  const int32_t next = chunk_[static_cast<size_t>(pos) + 1];
  if (next < 0 || static_cast<size_t>(next) >= logits.size())
    fail("perplexity: token {} at position {} is outside the {} logits", next, pos + 1,
         logits.size());
  chunk_sum_.add(token_nll(logits, next));
}

double Perplexity::run_chunk(Decoder& d, int64_t i) {
  if (i < 0 || i >= n_chunks_) fail("perplexity: chunk {} of {} does not exist", i, n_chunks_);
  if (d.n_ctx() < n_ctx_)
    fail("perplexity: the decoder holds {} positions, a chunk needs {}", d.n_ctx(), n_ctx_);
  const auto begin = tokens_.begin() + i * n_ctx_;
  chunk_.assign(begin, begin + n_ctx_);
  // As llama.cpp: a vocabulary that adds BOS sees it at the start of every chunk.
  if (bos_) chunk_[0] = *bos_;
  chunk_sum_ = {};
  // observe() counts only while a chunk runs, an error included.
  struct Done {
    std::vector<int32_t>& chunk;
    ~Done() { chunk.clear(); }
  } done{chunk_};
  d.reset();
  const auto t0 = std::chrono::steady_clock::now();
  d.prefill(chunk_);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int64_t want = n_ctx_ - 1 - first_;
  if (chunk_sum_.count != want)
    fail("perplexity: chunk {} scored {} positions, expected {} (positions {} .. {}): the "
         "decoder did not report the logits of every position",
         i, chunk_sum_.count, want, first_, n_ctx_ - 2);
  // Chunk sums are added whole, as llama.cpp adds each chunk's.
  sum_.add(chunk_sum_);
  return s;
}

}  // namespace brickc::runtime
