#include "runtime/serve/engine.h"

#include <algorithm>

#include "ir/error.h"

namespace brickc::serve {

SerialEngine::SerialEngine(runtime::Decoder& decoder, const tokenizer::Tokenizer& tok,
                           std::vector<int32_t> eog, int64_t max_waiting)
    : Engine(max_waiting), decoder_(decoder), tok_(tok), eog_(std::move(eog)) {}

std::shared_ptr<Engine::Ticket> Engine::admit() {
  if (stopping_) return nullptr;
  if (++metrics_.waiting > max_waiting_) {
    --metrics_.waiting;
    return nullptr;
  }
  return std::make_shared<Ticket>(metrics_);
}

void Engine::start(Ticket& t) {
  t.started_ = true;
  --metrics_.waiting;
  ++metrics_.processing;
}

Outcome SerialEngine::generate(Ticket& t, std::span<const int32_t> prompt, const GenParams& g,
                               const TextFn& on_text) {
  std::lock_guard lock(model_);
  start(t);
  struct Done {
    Metrics& m;
    ~Done() { --m.processing; }
  } done{metrics_};
  if (stopping_) fail("the server is shutting down");

  // The longest prefix of the prompt the cache holds; one token at least is evaluated, for
  // the logits of the first sample.
  const auto common = std::mismatch(cached_.begin(), cached_.end(), prompt.begin(), prompt.end());
  const size_t reuse = std::min(static_cast<size_t>(common.first - cached_.begin()),
                                prompt.size() - 1);
  cached_.clear();
  sampling::Sampler sampler(g.sampler);
  runtime::Session session(decoder_, sampler);
  session.resume(prompt.first(reuse));
  runtime::GenerateOptions go;
  go.n_predict = g.max_tokens.value_or(-1);
  go.eog = eog_;
  std::vector<int32_t> generated;

  Reply reply(tok_, g, on_text);
  go.interrupted = [&] { return reply.over() || stopping_; };
  const runtime::GenerateStats s = session.generate(prompt.subspan(reuse), go, [&](int32_t tok) {
    generated.push_back(tok);
    reply.add(tok, g.logprobs ? decoder_.logits() : std::span<const float>());
  });
  reply.finish();

  // The cache now holds the prompt and the generated tokens fed back.
  cached_.assign(prompt.begin(), prompt.end());
  cached_.insert(cached_.end(), generated.begin(), generated.end());
  cached_.resize(static_cast<size_t>(decoder_.n_past()));

  Outcome o;
  o.text = reply.text();
  o.logprobs = reply.take_logprobs();
  o.prompt_tokens = static_cast<int64_t>(prompt.size());
  o.cached_tokens = static_cast<int64_t>(reuse);
  o.completion_tokens = s.n_generated;
  const bool length = s.stop == runtime::StopReason::kLimit ||
                      s.stop == runtime::StopReason::kContextFull;
  o.finish_reason = length && !reply.stopped() ? "length" : "stop";
  metrics_.prompt_tokens += s.n_prompt;
  metrics_.cached_tokens += static_cast<int64_t>(reuse);
  metrics_.generated_tokens += s.n_generated;
  ++metrics_.completions;
  if (s.t_prefill > 0) metrics_.prefill_tok_s = s.n_prompt / s.t_prefill;
  if (s.n_decoded > 0 && s.t_decode > 0) metrics_.decode_tok_s = s.n_decoded / s.t_decode;
  return o;
}

}  // namespace brickc::serve
