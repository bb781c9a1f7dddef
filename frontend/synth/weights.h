// Random weights for synthetic models: reproducible from (seed, tensor name, chunk), so
// a file is the same whatever the thread count, and scaled per tensor role so that the
// model's next-token distributions are peaked (well above uniform) but not one-hot, and
// well conditioned: like a real model, its logits move little when activations are
// rounded (llama.cpp's Q8 matmul inputs, f16 KV cache), however many layers it has.
#pragma once
#include <cstdint>
#include <string_view>

#include "frontend/qwen2/config.h"

namespace brickc::synth {

struct WeightInit {
  float mean = 0;
  float stddev = 0;  // of a normal distribution
  // When row_len > 0, each row of row_len values is multiplied by exp(row_log_sd * N(0,1)).
  int64_t row_len = 0;
  float row_log_sd = 0;
  bool random_sign = false;  // each value's sign flipped with probability 1/2
};

// The distribution of tensor `name`'s values (e.g. "blk.3.ffn_down.weight").
WeightInit weight_init(std::string_view name, const qwen2::Config& c);

// Fills dst[0..n) with chunk `chunk` of tensor `name`. The stream depends only on the
// arguments: chunks may be filled on any thread, in any order.
void fill_weights(uint64_t seed, std::string_view name, uint64_t chunk, WeightInit init,
                  float* dst, size_t n);

}  // namespace brickc::synth
