// Several sequences in one model on the CPU, evaluated together: what `brickc serve
// --parallel N` decodes with. Each step takes up to max_rows() tokens, each appended to
// its own sequence's cache at that sequence's next position, through one graph imported
// with n_seq caches (GraphExecutor::step_rows); every row gets its logits.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "runtime/cpu/executor.h"

namespace brickc::cpu {

class BatchModel {
 public:
  // opt: threads, context per sequence (n_ctx), passes, kernels.
  BatchModel(const gguf::File& file, const GraphModelOptions& opt, int n_seq, int64_t max_rows);

  int n_seq() const { return static_cast<int>(n_past_.size()); }
  int64_t n_ctx() const { return exec_.max_ctx(); }
  int64_t max_rows() const { return exec_.graph().n_tokens; }
  int64_t n_past(int seq) const { return n_past_.at(static_cast<size_t>(seq)); }
  // tokens[i] of sequence seq[i], in order: a sequence's tokens in one step go at its
  // consecutive next positions. Error for a full context, a bad id or too many rows.
  void step(std::span<const int32_t> tokens, std::span<const int32_t> seq);
  // The logits of row i of the last step.
  std::span<const float> logits(size_t row) const;
  // Keeps the first n positions of sequence `seq` (for prompt reuse, and to drop one).
  void rewind(int seq, int64_t n);

 private:
  GraphExecutor exec_;
  int64_t n_vocab_;
  std::vector<int64_t> n_past_;
  std::vector<int32_t> pos_;  // per row of the step being set up
};

}  // namespace brickc::cpu
