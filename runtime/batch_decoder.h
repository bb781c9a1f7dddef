// Several sequences of one model decoded together (`brickc serve --parallel N`): each step
// takes up to max_rows() tokens, each appended to its own sequence at that sequence's next
// position, and gives every row its logits. The CPU's (cpu::BatchModel) and the GPU's
// (cuda::BatchModel) keep positions here alike and differ only in how a step runs.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace brickc::runtime {

class BatchDecoder {
 public:
  virtual ~BatchDecoder() = default;
  int n_seq() const { return static_cast<int>(n_past_.size()); }
  virtual int64_t n_ctx() const = 0;     // positions per sequence
  virtual int64_t max_rows() const = 0;  // tokens per step
  int64_t n_past(int seq) const { return n_past_.at(static_cast<size_t>(seq)); }
  // tokens[i] of sequence seq[i], in order: a sequence's tokens in one step go at its
  // consecutive next positions. Error for a full context, a bad id or too many rows.
  void step(std::span<const int32_t> tokens, std::span<const int32_t> seq);
  // The logits of row i of the last step, valid until the next call.
  virtual std::span<const float> logits(size_t row) = 0;
  // Row i's largest logit's index (the lowest among equal ones): greedy sampling without
  // the logits.
  virtual int32_t argmax(size_t row) = 0;
  // Keeps the first n positions of sequence `seq` (for prompt reuse, and to drop one).
  void rewind(int seq, int64_t n);

 protected:
  BatchDecoder(int n_seq, int64_t n_vocab);
  // Runs the step: token i at position pos[i] of sequence seq[i].
  virtual void run(std::span<const int32_t> tokens, std::span<const int32_t> pos,
                   std::span<const int32_t> seq) = 0;
  int64_t n_vocab() const { return n_vocab_; }

 private:
  int64_t n_vocab_;
  std::vector<int64_t> n_past_;
  std::vector<int32_t> pos_;  // per row of the step being set up
};

}  // namespace brickc::runtime
