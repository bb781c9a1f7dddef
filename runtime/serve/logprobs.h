// The log-probabilities `brickc serve` reports with each generated token (OpenAI's logprobs
// and top_logprobs, llama-server's n_probs): the log-softmax of the model's logits at the
// position that produced the token, before temperature or any sampler changes them, as
// OpenAI and llama-server report them.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace brickc::tokenizer {
class Tokenizer;
}

namespace brickc::serve {

// The most alternatives a request may ask for (OpenAI's top_logprobs bound).
inline constexpr int kMaxLogprobs = 20;

struct TokenProb {
  int32_t id = 0;
  std::string piece;  // the token's bytes (possibly part of a UTF-8 character)
  float logprob = 0;
};

struct TokenLogprobs {
  TokenProb chosen;
  std::vector<TokenProb> top;  // the n_top most likely tokens, most likely first
};

// `chosen` and the n_top (<= kMaxLogprobs) largest of `logits`, ties by lower id first.
TokenLogprobs token_logprobs(std::span<const float> logits, int32_t chosen, int n_top,
                             const tokenizer::Tokenizer& tok);

}  // namespace brickc::serve
