#include "runtime/cuda/batch_model.h"

#include <fmt/format.h>

#include <algorithm>

#include "frontend/qwen2/config.h"
#include "ir/error.h"
#include "runtime/decode_graph.h"

namespace brickc::cuda {
namespace {

Executor make_batch(Context& ctx, const gguf::File& file, const ModelOptions& o, int n_seq,
                    int64_t max_rows) {
  const runtime::StepShape shape{std::min(max_rows, o.n_ctx), true, n_seq};
  ExecutorOptions e;
  e.use_graph = o.use_graph;
  return Executor(ctx, file,
                  runtime::decode_graph(file, o.n_ctx, o.passes, budget_profile(ctx.info().name),
                                        shape, o.cache),
                  e);
}

}  // namespace

BatchModel::BatchModel(const gguf::File& file, const ModelOptions& o, int n_seq, int64_t max_rows)
    : BatchDecoder(n_seq, qwen2::read_config(file).n_vocab),
      ctx_(o.device),
      exec_(make_batch(ctx_, file, o, n_seq, max_rows)) {}

// Each entry makes the context current: serve steps from its scheduler thread.
void BatchModel::run(std::span<const int32_t> tokens, std::span<const int32_t> pos,
                     std::span<const int32_t> seq) {
  ctx_.make_current();
  exec_.step_rows(tokens, pos, seq);
  ++steps_;
}

// Only the rows asked for cross PCIe: a server samples from one row per request, not from
// its prompt's other rows.
std::span<const float> BatchModel::logits(size_t row) {
  ctx_.make_current();
  row_ = exec_.logits_row(static_cast<int64_t>(row));
  return row_;
}

int32_t BatchModel::argmax(size_t row) {
  if (ids_step_ != steps_) {
    ctx_.make_current();
    ids_ = exec_.argmax_rows();
    ids_step_ = steps_;
  }
  if (row >= ids_.size()) fail("row {} of a step of {} rows", row, ids_.size());
  return ids_[row];
}

std::string BatchModel::device_label() const {
  return fmt::format("cuda:{} {} (batch of {} sequences)", ctx_.info().ordinal, ctx_.info().name,
                     n_seq());
}

}  // namespace brickc::cuda
