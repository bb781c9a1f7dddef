// The serving engines' common part (admission with a bounded queue, stop, metrics) and
// the one that serves one request at a time on any backend: a fresh sampler per request,
// prompt reuse (a prompt that starts with tokens the cache already holds, the same file in
// an editor or the same chat history, evaluates only the rest), generation with stop
// strings, text handed out as it becomes final. batch_engine.h serves several at once.
// Not HTTP.
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
#include "runtime/serve/reply.h"
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

// What the server asks of an engine: admission with a bounded queue, generation, stop.
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

  virtual ~Engine() = default;
  // A ticket, or null when max_waiting requests already wait or the engine is stopping.
  std::shared_ptr<Ticket> admit();
  // Waits for the model, then generates from `prompt` (checked by the caller to fit).
  // Error when the engine stopped while the ticket waited.
  virtual Outcome generate(Ticket& t, std::span<const int32_t> prompt, const GenParams& g,
                           const TextFn& on_text) = 0;
  // Ends running generations at their next token and refuses every later one.
  virtual void stop() { stopping_ = true; }
  // Positions of context a request has.
  virtual int64_t n_ctx() const = 0;
  Metrics& metrics() { return metrics_; }

 protected:
  explicit Engine(int64_t max_waiting) : max_waiting_(max_waiting) {}
  // The ticket's request leaves the queue and starts generating.
  void start(Ticket& t);

  int64_t max_waiting_;
  std::atomic<bool> stopping_{false};
  Metrics metrics_;
};

// One request at a time, on any backend's Decoder.
class SerialEngine final : public Engine {
 public:
  SerialEngine(runtime::Decoder& decoder, const tokenizer::Tokenizer& tok,
               std::vector<int32_t> eog, int64_t max_waiting);
  Outcome generate(Ticket& t, std::span<const int32_t> prompt, const GenParams& g,
                   const TextFn& on_text) override;
  int64_t n_ctx() const override { return decoder_.n_ctx(); }

 private:
  runtime::Decoder& decoder_;
  const tokenizer::Tokenizer& tok_;
  std::vector<int32_t> eog_;
  std::mutex model_;  // held for a whole generation
  // The tokens whose keys and values the cache holds, position by position (guarded by
  // model_); emptied while a generation runs, so that a failed one leaves nothing to reuse.
  std::vector<int32_t> cached_;
};

}  // namespace brickc::serve
