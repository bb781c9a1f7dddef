// One request's answer as its tokens arrive, for either engine: text handed out as it
// becomes final (a stop string cut off and never sent, a tail that could start one held
// back, ill-formed UTF-8 mended) with the log-probabilities of the tokens it came from.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "frontend/tokenizer/tokenizer.h"
#include "runtime/serve/logprobs.h"
#include "runtime/serve/requests.h"

namespace brickc::serve {

// Called with text as it becomes final and, with GenParams::logprobs, the entries of the
// tokens whose text is now final (either may be empty); false when the client is gone.
using TextFn = std::function<bool(std::string_view, std::span<const TokenLogprobs>)>;

class Reply {
 public:
  Reply(const tokenizer::Tokenizer& tok, const GenParams& g, TextFn on_text);
  // A generated token, with the logits it was sampled from (read only with logprobs).
  // False once the answer is over: a stop string ended it or the client went away.
  bool add(int32_t token, std::span<const float> logits);
  // At the end of generation: hands out what was held back (unless a stop string ended it).
  void finish();

  bool stopped() const { return hit_stop_; }  // a stop string ended the answer
  bool over() const { return halt_; }         // a stop string, or the client is gone
  const std::string& text() const { return text_; }
  // Entries for the tokens whose text is in text() (a token cut off with a stop string is not).
  std::vector<TokenLogprobs> take_logprobs() { return std::move(probs_); }

 private:
  // Hands out text up to `end` and the entries whose text is out; `all` at the end.
  void send(size_t end, bool all);

  const tokenizer::Tokenizer& tok_;
  const GenParams& g_;
  TextFn on_text_;
  tokenizer::StreamDecoder dec_;
  std::string text_;
  size_t sent_ = 0;
  bool halt_ = false, hit_stop_ = false;
  // Log-probabilities, and where each token's text starts and ends in text_ (a token
  // whose bytes end inside a character ends where that character does).
  std::vector<TokenLogprobs> probs_;
  std::vector<std::pair<size_t, size_t>> spans_;
  size_t released_ = 0;  // entries handed to on_text_
};

}  // namespace brickc::serve
