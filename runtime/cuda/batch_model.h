// Several sequences decoded together on the GPU (`brickc serve --parallel N` on a GPU): one
// T-token graph imported with n_seq caches, whose matrix bricks run as tensor-core GEMMs over
// the step's rows and whose attention gives each row its own sequence's cache
// (kernels/attention.cuh: batch_attention); every row's logits come back.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "runtime/batch_decoder.h"
#include "runtime/cuda/context.h"
#include "runtime/cuda/executor.h"
#include "runtime/cuda/model.h"

namespace brickc::cuda {

class BatchModel final : public runtime::BatchDecoder {
 public:
  // o: device, n_ctx (per sequence), passes, cache, use_graph.
  BatchModel(const gguf::File& file, const ModelOptions& o, int n_seq, int64_t max_rows);

  int64_t n_ctx() const override { return exec_.max_ctx(); }
  int64_t max_rows() const override { return exec_.graph().n_tokens; }
  std::span<const float> logits(size_t row) override;
  int32_t argmax(size_t row) override;
  std::string device_label() const;
  size_t device_bytes() const { return exec_.device_bytes(); }

 private:
  void run(std::span<const int32_t> tokens, std::span<const int32_t> pos,
           std::span<const int32_t> seq) override;

  Context ctx_;
  Executor exec_;
  std::vector<float> row_;  // the row logits() returned last
  std::vector<int32_t> ids_;  // the last step's rows' argmax, read at the first argmax()
  uint64_t steps_ = 0, ids_step_ = 0;  // steps run; the step ids_ belongs to (0: none)
};

}  // namespace brickc::cuda
