#include "runtime/serve/logprobs.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "frontend/tokenizer/tokenizer.h"
#include "ir/error.h"

namespace brickc::serve {

TokenLogprobs token_logprobs(std::span<const float> logits, int32_t chosen, int n_top,
                             const tokenizer::Tokenizer& tok) {
  const auto n = static_cast<int64_t>(logits.size());
  if (chosen < 0 || chosen >= n) fail("token {} is outside the {} logits", chosen, n);
  n_top = std::clamp(n_top, 0, static_cast<int>(std::min<int64_t>(n, kMaxLogprobs)));
  // log p_i = l_i - (m + log sum_j exp(l_j - m)), in double so that the sum over a 152k
  // vocabulary loses nothing.
  const float m = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float l : logits) sum += std::exp(static_cast<double>(l) - m);
  const double lse = m + std::log(sum);
  auto prob = [&](int32_t id) {
    return TokenProb{id, tok.token_to_piece(id, /*special=*/true),
                     static_cast<float>(logits[static_cast<size_t>(id)] - lse)};
  };
  TokenLogprobs out{prob(chosen), {}};
  std::vector<int32_t> ids(static_cast<size_t>(n));
  std::iota(ids.begin(), ids.end(), 0);
  const auto more_likely = [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  std::partial_sort(ids.begin(), ids.begin() + n_top, ids.end(), more_likely);
  for (int i = 0; i < n_top; ++i) out.top.push_back(prob(ids[static_cast<size_t>(i)]));
  return out;
}

}  // namespace brickc::serve
