#include "runtime/cpu/batch_model.h"

#include <algorithm>

#include "frontend/qwen2/config.h"
#include "ir/error.h"
#include "runtime/decode_graph.h"

namespace brickc::cpu {

BatchModel::BatchModel(const gguf::File& file, const GraphModelOptions& opt, int n_seq,
                       int64_t max_rows)
    : exec_(file,
            runtime::decode_graph(file, opt.n_ctx, opt.passes, "cpu",
                                  {std::min(max_rows, opt.n_ctx), true, n_seq}),
            opt.n_threads, nullptr, opt.kernels),
      n_vocab_(qwen2::read_config(file).n_vocab),
      n_past_(static_cast<size_t>(n_seq), 0) {}

void BatchModel::step(std::span<const int32_t> tokens, std::span<const int32_t> seq) {
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
  exec_.step_rows(tokens, pos_, seq);
  n_past_ = std::move(next);
}

std::span<const float> BatchModel::logits(size_t row) const {
  return exec_.logits_rows().subspan(row * static_cast<size_t>(n_vocab_),
                                     static_cast<size_t>(n_vocab_));
}

void BatchModel::rewind(int seq, int64_t n) {
  runtime::check_rewind(n, n_past(seq));
  n_past_[static_cast<size_t>(seq)] = n;
}

}  // namespace brickc::cpu
