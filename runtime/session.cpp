#include "runtime/session.h"

#include <algorithm>
#include <chrono>

#include "ir/error.h"

namespace brickc::runtime {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int32_t Decoder::argmax() {
  const std::span<const float> l = logits();
  return static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
}

void check_tokens(std::span<const int32_t> tokens, int64_t n_past, int64_t n_ctx, int64_t n_vocab) {
  if (tokens.empty()) fail("no tokens to evaluate");
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= n_vocab)
      fail("token id {} (at index {}) is out of range: the model's vocabulary has {} tokens",
           tokens[i], i, n_vocab);
  if (n_past + static_cast<int64_t>(tokens.size()) > n_ctx)
    fail("{} tokens at position {} do not fit: the context length is {}", tokens.size(), n_past,
         n_ctx);
}

void check_rewind(int64_t n, int64_t n_past) {
  if (n < 0 || n > n_past)
    fail("cannot keep {} cache positions: {} are filled", n, n_past);
}

std::string_view describe(StopReason r) {
  switch (r) {
    case StopReason::kEndOfGeneration: return "end of generation";
    case StopReason::kLimit: return "-n limit";
    case StopReason::kContextFull: return "context full";
    case StopReason::kInterrupted: return "interrupted";
  }
  return "?";
}

GenerateStats Session::generate(std::span<const int32_t> prompt, const GenerateOptions& o,
                                const TokenFn& on_token) {
  std::vector<int32_t> feed;
  if (unfed_) feed.push_back(*unfed_);
  feed.insert(feed.end(), prompt.begin(), prompt.end());
  if (feed.empty()) fail("the prompt is empty: nothing to generate from");
  if (model_.n_past() + static_cast<int64_t>(feed.size()) > model_.n_ctx())
    fail("the prompt ({} tokens) does not fit the context: {} of {} positions are in use",
         feed.size(), model_.n_past(), model_.n_ctx());
  for (int32_t t : prompt) sampler_.accept(t);

  GenerateStats s;
  s.n_prompt = static_cast<int64_t>(feed.size());
  const auto t0 = std::chrono::steady_clock::now();
  model_.prefill(feed);
  unfed_.reset();
  s.t_prefill = seconds_since(t0);

  std::chrono::steady_clock::time_point t_first;
  while (true) {
    if (o.n_predict >= 0 && s.n_generated >= o.n_predict) {
      s.stop = StopReason::kLimit;
      break;
    }
    const int32_t tok =
        sampler_.is_plain_greedy() ? model_.argmax() : sampler_.sample(model_.logits());
    if (s.n_generated == 0) {
      s.t_first_token = seconds_since(t0);
      t_first = std::chrono::steady_clock::now();
    }
    sampler_.accept(tok);
    if (std::binary_search(o.eog.begin(), o.eog.end(), tok)) {
      s.stop = StopReason::kEndOfGeneration;
      break;
    }
    ++s.n_generated;
    if (on_token) on_token(tok);
    // Stop before feeding the last token: its logits would not be used.
    unfed_ = tok;
    if (o.n_predict >= 0 && s.n_generated >= o.n_predict) {
      s.stop = StopReason::kLimit;
      break;
    }
    if (o.interrupted && o.interrupted()) {
      s.stop = StopReason::kInterrupted;
      break;
    }
    if (model_.n_past() >= model_.n_ctx()) {
      s.stop = StopReason::kContextFull;
      break;
    }
    model_.decode(tok);
    unfed_.reset();
    ++s.n_decoded;
  }
  if (s.n_generated > 0) s.t_decode = seconds_since(t_first);
  return s;
}

void Session::resume(std::span<const int32_t> cached) {
  model_.rewind(static_cast<int64_t>(cached.size()));
  sampler_.reset();
  for (int32_t t : cached) sampler_.accept(t);
  unfed_.reset();
}

void Session::reset() {
  model_.reset();
  sampler_.reset();
  unfed_.reset();
}

}  // namespace brickc::runtime
