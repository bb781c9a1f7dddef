#include "runtime/batch_decoder.h"

#include "ir/error.h"
#include "runtime/session.h"

namespace brickc::runtime {

BatchDecoder::BatchDecoder(int n_seq, int64_t n_vocab)
    : n_vocab_(n_vocab), n_past_(static_cast<size_t>(n_seq), 0) {}

void BatchDecoder::step(std::span<const int32_t> tokens, std::span<const int32_t> seq) {
  if (tokens.size() != seq.size())
    fail("a batch step got {} tokens and {} sequence ids", tokens.size(), seq.size());
  std::vector<int64_t> next = n_past_;
  pos_.clear();
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int32_t s = seq[i];
    if (s < 0 || s >= n_seq()) fail("sequence {} is outside 0..{}", s, n_seq() - 1);
    if (tokens[i] < 0 || tokens[i] >= n_vocab_)
      fail("token id {} is out of range: the vocabulary has {} tokens", tokens[i], n_vocab_);
    if (next[s] >= n_ctx())
      fail("sequence {} is full: its context holds {} positions", s, n_ctx());
    pos_.push_back(static_cast<int32_t>(next[s]++));
  }
  run(tokens, pos_, seq);
  n_past_ = std::move(next);
}

void BatchDecoder::rewind(int seq, int64_t n) {
  check_rewind(n, n_past(seq));
  n_past_[static_cast<size_t>(seq)] = n;
}

}  // namespace brickc::runtime
