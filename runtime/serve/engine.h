// One model serving one request at a time: admission with a bounded queue, a fresh sampler
// per request, prompt reuse (a prompt that starts with tokens the cache already holds, the
// same file in an editor or the same chat history, evaluates only the rest), generation
// with stop strings, text handed out as it becomes final. Continuous batching is not built
// yet. Not HTTP.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/tokenizer/tokenizer.h"
#include "runtime/serve/logprobs.h"
#include "runtime/serve/metrics.h"
#include "runtime/serve/requests.h"
#include "runtime/session.h"

namespace brickc::serve {

struct Outcome {
  std::string text;             // stop string and what followed it cut off
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;    // of prompt_tokens, reused from the cache
  int64_t completion_tokens = 0;
  std::string finish_reason;    // "stop" (end of generation, a stop string) or "length"
  // With GenParams::logprobs, one entry per generated token whose text is in `text` (a
  // token cut off with a stop string is not).
  std::vector<TokenLogprobs> logprobs;
};

class Engine {
 public:
  // A place in the queue; leaving it unused (destroyed) gives the place back.
  class Ticket {
   public:
    explicit Ticket(Metrics& m) : m_(m) {}
    ~Ticket() {
      if (!started_) --m_.waiting;
    }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;

   private:
    friend class Engine;
    Metrics& m_;
    bool started_ = false;
  };

  // Called with text as it becomes final and, with GenParams::logprobs, the entries of the
  // tokens whose text is now final (either may be empty); false when the client is gone
  // (generation stops).
  using TextFn = std::function<bool(std::string_view, std::span<const TokenLogprobs>)>;

  Engine(runtime::Decoder& decoder, const tokenizer::Tokenizer& tok, std::vector<int32_t> eog,
         int64_t max_waiting);

  // A ticket, or null when max_waiting requests already wait or the engine is stopping.
  std::shared_ptr<Ticket> admit();
  // Waits for the model, then generates from `prompt` (checked by the caller to fit).
  // Error when the engine stopped while the ticket waited.
  Outcome generate(Ticket& t, std::span<const int32_t> prompt, const GenParams& g,
                   const TextFn& on_text);
  // Ends the running generation at its next token and refuses every later one.
  void stop() { stopping_ = true; }

  int64_t n_ctx() const { return decoder_.n_ctx(); }
  Metrics& metrics() { return metrics_; }

 private:
  runtime::Decoder& decoder_;
  const tokenizer::Tokenizer& tok_;
  std::vector<int32_t> eog_;
  int64_t max_waiting_;
  std::mutex model_;  // held for a whole generation
  // The tokens whose keys and values the cache holds, position by position (guarded by
  // model_); emptied while a generation runs, so that a failed one leaves nothing to reuse.
  std::vector<int32_t> cached_;
  std::atomic<bool> stopping_{false};
  Metrics metrics_;
};

}  // namespace brickc::serve
