// Continuous batching (`brickc serve --parallel N`): up to N requests generate together on
// a runtime::BatchDecoder (the CPU's or the GPU's batch model), one sequence of its cache
// each. A scheduler thread runs one step at a time over every active request: the token
// each decoding request sampled last, then prompt tokens of those still reading their
// prompt, up to the step's rows. Each row's logits give its request's next token. A request joins at the next step after it arrives
// and leaves when it ends; its sequence keeps the tokens for prompt reuse by the next request
// placed there (the free sequence sharing the longest prefix with it). Text goes from the
// scheduler to each request's own thread through a queue, so a slow client never holds up
// the others.
#pragma once
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/batch_decoder.h"
#include "runtime/serve/engine.h"

namespace brickc::serve {

class BatchEngine final : public Engine {
 public:
  BatchEngine(runtime::BatchDecoder& model, const tokenizer::Tokenizer& tok, std::vector<int32_t> eog,
              int64_t max_waiting);
  ~BatchEngine() override;
  Outcome generate(Ticket& t, std::span<const int32_t> prompt, const GenParams& g,
                   const TextFn& on_text) override;
  void stop() override;
  int64_t n_ctx() const override { return model_.n_ctx(); }

 private:
  struct Job;
  void run();                        // the scheduler thread
  void place(Job& j);                // gives a waiting job a free sequence
  void finish(Job& j, const char* error = nullptr);

  runtime::BatchDecoder& model_;
  const tokenizer::Tokenizer& tok_;
  std::vector<int32_t> eog_;
  std::mutex mu_;  // guards queue_, the jobs' hand-over fields, cached_ and busy_
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queue_;  // arrived, not yet placed
  std::vector<std::shared_ptr<Job>> active_;  // the scheduler's own
  std::vector<std::vector<int32_t>> cached_;  // per sequence: the tokens its cache holds
  std::vector<bool> busy_;
  std::thread scheduler_;
};

}  // namespace brickc::serve
