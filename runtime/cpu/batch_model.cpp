#include "runtime/cpu/batch_model.h"

#include <algorithm>

#include "frontend/qwen2/config.h"
#include "runtime/decode_graph.h"

namespace brickc::cpu {

BatchModel::BatchModel(const gguf::File& file, const GraphModelOptions& opt, int n_seq,
                       int64_t max_rows)
    : BatchDecoder(n_seq, qwen2::read_config(file).n_vocab),
      exec_(file,
            runtime::decode_graph(file, opt.n_ctx, opt.passes, "cpu",
                                  {std::min(max_rows, opt.n_ctx), true, n_seq}, opt.cache),
            opt.n_threads, nullptr, opt.kernels) {}

void BatchModel::run(std::span<const int32_t> tokens, std::span<const int32_t> pos,
                     std::span<const int32_t> seq) {
  exec_.step_rows(tokens, pos, seq);
}

std::span<const float> BatchModel::logits(size_t row) {
  return exec_.logits_rows().subspan(row * static_cast<size_t>(n_vocab()),
                                     static_cast<size_t>(n_vocab()));
}

int32_t BatchModel::argmax(size_t row) {
  const std::span<const float> l = logits(row);
  return static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
}

}  // namespace brickc::cpu
