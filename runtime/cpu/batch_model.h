// Several sequences in one model on the CPU, evaluated together: what `brickc serve
// --parallel N` decodes with on the CPU. Each step goes through one graph imported with
// n_seq caches (GraphExecutor::step_rows); every row gets its logits.
#pragma once
#include <cstdint>
#include <span>

#include "runtime/batch_decoder.h"
#include "runtime/cpu/executor.h"

namespace brickc::cpu {

class BatchModel final : public runtime::BatchDecoder {
 public:
  // opt: threads, context per sequence (n_ctx), passes, kernels.
  BatchModel(const gguf::File& file, const GraphModelOptions& opt, int n_seq, int64_t max_rows);

  int64_t n_ctx() const override { return exec_.max_ctx(); }
  int64_t max_rows() const override { return exec_.graph().n_tokens; }
  std::span<const float> logits(size_t row) override;
  int32_t argmax(size_t row) override;

 private:
  void run(std::span<const int32_t> tokens, std::span<const int32_t> pos,
           std::span<const int32_t> seq) override;

  GraphExecutor exec_;
};

}  // namespace brickc::cpu
