// Picks the next token from a logits vector with llama.cpp's default chain: penalties ->
// top-k -> top-p -> min-p -> temperature -> a seeded draw (gguf-qwen2.md §7). Keeps the
// penalty window of accepted tokens and the random generator. Not the model's forward pass.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <random>
#include <span>

#include "runtime/sampling/candidates.h"

namespace brickc::sampling {

// LLAMA_DEFAULT_SEED: draw the seed from std::random_device.
inline constexpr uint32_t kRandomSeed = 0xFFFFFFFFu;

// llama.cpp's defaults (common/common.h).
struct SamplerParams {
  float temp = 0.8f;       // <= 0: greedy
  int32_t top_k = 40;      // <= 0: off
  float top_p = 0.95f;     // >= 1: off
  float min_p = 0.05f;     // <= 0: off
  size_t min_keep = 0;     // top-p and min-p keep at least this many
  int32_t penalty_last_n = 64;  // window of accepted tokens; 0: off, -1: all of them
  float penalty_repeat = 1.0f;  // 1: off
  float penalty_freq = 0.0f;
  float penalty_present = 0.0f;
  uint32_t seed = kRandomSeed;

  // Error naming the field for values llama.cpp rejects or that make no distribution:
  // a non-finite value, penalty_repeat <= 0, penalty_last_n < -1, top_p or min_p < 0.
  void validate() const;
};

class Sampler {
 public:
  explicit Sampler(const SamplerParams& params);  // validates

  // The token to emit for `logits` (one per vocabulary entry). Does not record it: call
  // accept() with the token actually used, as llama.cpp's callers do. Greedy (temp <= 0)
  // returns the first index of the largest penalized logit and draws no random number.
  int32_t sample(std::span<const float> logits);
  // Adds a token (prompt or generated) to the penalty window.
  void accept(int32_t token);
  // Empties the penalty window and restarts the generator from seed().
  void reset();

  const SamplerParams& params() const { return params_; }
  // Greedy with no penalty: sample() is then the plain argmax of the logits, which a
  // backend may compute itself (Decoder::argmax).
  bool is_plain_greedy() const { return params_.temp <= 0.0f && !penalties_on(); }
  uint32_t seed() const { return seed_; }  // the seed in use, also when drawn at random
  // The candidates left after the last sample(), with their probabilities: those the
  // draw chose from. For greedy, the full list with logits only.
  const Candidates& last_candidates() const { return cur_; }

 private:
  bool penalties_on() const;

  SamplerParams params_;
  uint32_t seed_;
  std::mt19937 rng_;
  std::deque<int32_t> window_;
  TokenCounts counts_;
  Candidates cur_;  // reused between calls: the vocabulary is large
};

}  // namespace brickc::sampling
