#include "runtime/serve/batch_engine.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "ir/error.h"

namespace brickc::serve {

struct BatchEngine::Job {
  Job(Ticket& t, std::span<const int32_t> p, const GenParams& params)
      : ticket(t), prompt(p.begin(), p.end()), g(params), sampler(params.sampler) {}

  Ticket& ticket;  // lives while generate() waits for this job
  std::vector<int32_t> prompt;
  GenParams g;
  sampling::Sampler sampler;
  std::unique_ptr<Reply> reply;

  // The scheduler's.
  int seq = -1;
  size_t reuse = 0;  // prompt tokens the sequence's cache held already
  size_t fed = 0;    // prompt tokens in the cache
  std::optional<int32_t> pending;  // sampled and streamed, fed at the next step
  std::vector<int32_t> generated;
  int64_t n_decoded = 0;
  std::chrono::steady_clock::time_point t_placed, t_first;

  // Handed over under mu_.
  std::deque<std::pair<std::string, std::vector<TokenLogprobs>>> pieces;
  bool done = false;
  std::string error;
  Outcome outcome;
  std::condition_variable cv;
  std::atomic<bool> cancelled{false};  // the client went away
};

namespace {

double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

BatchEngine::BatchEngine(runtime::BatchDecoder& model, const tokenizer::Tokenizer& tok,
                         std::vector<int32_t> eog, int64_t max_waiting)
    : Engine(max_waiting),
      model_(model),
      tok_(tok),
      eog_(std::move(eog)),
      cached_(static_cast<size_t>(model.n_seq())),
      busy_(static_cast<size_t>(model.n_seq()), false),
      scheduler_([this] { run(); }) {}

BatchEngine::~BatchEngine() {
  stop();
  scheduler_.join();
}

void BatchEngine::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
}

Outcome BatchEngine::generate(Ticket& t, std::span<const int32_t> prompt, const GenParams& g,
                              const TextFn& on_text) {
  auto job = std::make_shared<Job>(t, prompt, g);
  Job* j = job.get();
  // The scheduler runs the reply; its text waits here for this thread to send it.
  job->reply = std::make_unique<Reply>(
      tok_, job->g, [this, j](std::string_view text, std::span<const TokenLogprobs> l) {
        {
          std::lock_guard lock(mu_);
          j->pieces.emplace_back(std::string(text), std::vector<TokenLogprobs>(l.begin(), l.end()));
        }
        j->cv.notify_one();
        return !j->cancelled;
      });
  {
    std::lock_guard lock(mu_);
    if (stopping_) fail("the server is shutting down");
    queue_.push_back(job);
  }
  wake_.notify_one();
  for (bool done = false; !done;) {
    std::deque<std::pair<std::string, std::vector<TokenLogprobs>>> pieces;
    {
      std::unique_lock lock(mu_);
      j->cv.wait(lock, [&] { return !j->pieces.empty() || j->done; });
      pieces.swap(j->pieces);
      done = j->done;
    }
    for (const auto& [text, l] : pieces)
      if (!j->cancelled && !on_text(text, l)) j->cancelled = true;
  }
  if (!j->error.empty()) fail("{}", j->error);
  return std::move(j->outcome);
}

void BatchEngine::place(Job& j) {
  // The free sequence whose cache shares the longest prefix with the prompt; one prompt
  // token at least is evaluated, for the logits of the first sample.
  int best = -1;
  size_t best_common = 0;
  for (int s = 0; s < model_.n_seq(); ++s) {
    if (busy_[static_cast<size_t>(s)]) continue;
    const auto& c = cached_[static_cast<size_t>(s)];
    const size_t common = static_cast<size_t>(
        std::mismatch(c.begin(), c.end(), j.prompt.begin(), j.prompt.end()).first - c.begin());
    if (best < 0 || common > best_common) best = s, best_common = common;
  }
  j.seq = best;
  j.reuse = j.fed = std::min(best_common, j.prompt.size() - 1);
  busy_[static_cast<size_t>(best)] = true;
  cached_[static_cast<size_t>(best)].clear();  // until the job ends, as in SerialEngine
  model_.rewind(best, static_cast<int64_t>(j.reuse));
  for (int32_t t : j.prompt) j.sampler.accept(t);
  j.t_placed = std::chrono::steady_clock::now();
  start(j.ticket);
}

void BatchEngine::finish(Job& j, const char* error) {
  if (!error) j.reply->finish();
  Outcome& o = j.outcome;
  if (o.finish_reason.empty()) o.finish_reason = "stop";  // stopped, or the client left
  o.text = j.reply->text();
  o.logprobs = j.reply->take_logprobs();
  o.prompt_tokens = static_cast<int64_t>(j.prompt.size());
  o.cached_tokens = static_cast<int64_t>(j.reuse);
  o.completion_tokens = static_cast<int64_t>(j.generated.size());
  metrics_.prompt_tokens += o.prompt_tokens - o.cached_tokens;
  metrics_.cached_tokens += o.cached_tokens;
  metrics_.generated_tokens += o.completion_tokens;
  ++metrics_.completions;
  if (j.n_decoded > 0)
    metrics_.decode_tok_s =
        j.n_decoded / seconds(std::chrono::steady_clock::now() - j.t_first);
  --metrics_.processing;
  {
    std::lock_guard lock(mu_);
    // The cache holds the prompt and the generated tokens fed back.
    auto& c = cached_[static_cast<size_t>(j.seq)];
    if (error) {
      j.error = error;  // and the cache is in no known state: nothing to reuse
    } else {
      c = j.prompt;
      c.insert(c.end(), j.generated.begin(), j.generated.end());
      c.resize(std::min(c.size(), static_cast<size_t>(model_.n_past(j.seq))));
    }
    busy_[static_cast<size_t>(j.seq)] = false;
    j.done = true;
  }
  j.cv.notify_one();
}

void BatchEngine::run() {
  std::vector<int32_t> tokens, seqs;
  std::vector<std::pair<Job*, size_t>> samples;  // a job and the row it samples from
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || !active_.empty(); });
      if (stopping_) {
        for (auto& j : queue_) {
          j->error = "the server is shutting down";
          j->done = true;
          j->cv.notify_one();
        }
        queue_.clear();
      }
      while (!stopping_ && !queue_.empty() && active_.size() < busy_.size()) {
        place(*queue_.front());
        active_.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    // A request whose client left, or every one when the server stops, ends here.
    std::erase_if(active_, [&](const std::shared_ptr<Job>& j) {
      if (!stopping_ && !j->cancelled) return false;
      finish(*j);
      return true;
    });
    if (active_.empty()) {
      std::lock_guard lock(mu_);
      if (stopping_ && queue_.empty()) return;
      continue;
    }

    // Decoding requests' tokens first (one each), then prompts, up to the step's rows.
    tokens.clear(), seqs.clear(), samples.clear();
    const auto rows = static_cast<size_t>(model_.max_rows());
    for (auto& j : active_)
      if (j->pending && tokens.size() < rows) {
        tokens.push_back(*j->pending);
        seqs.push_back(j->seq);
        samples.emplace_back(j.get(), tokens.size() - 1);
      }
    for (auto& j : active_) {
      if (j->pending || j->fed == j->prompt.size() || tokens.size() == rows) continue;
      const size_t n = std::min(rows - tokens.size(), j->prompt.size() - j->fed);
      for (size_t k = 0; k < n; ++k) {
        tokens.push_back(j->prompt[j->fed + k]);
        seqs.push_back(j->seq);
      }
      j->fed += n;
      if (j->fed == j->prompt.size()) samples.emplace_back(j.get(), tokens.size() - 1);
    }
    try {
      model_.step(tokens, seqs);
    } catch (const Error& e) {
      for (auto& j : active_) finish(*j, e.what());
      active_.clear();
      continue;
    }
    for (auto [j, row] : samples) {
      // Greedy requests take the row's argmax, which the GPU gives without its logits; those
      // are read only for sampling or log-probabilities.
      const bool greedy = j->sampler.is_plain_greedy();
      const std::span<const float> logits =
          greedy && !j->g.logprobs ? std::span<const float>{} : model_.logits(row);
      if (j->pending) ++j->n_decoded;
      j->pending.reset();
      const int32_t tok = greedy ? model_.argmax(row) : j->sampler.sample(logits);
      j->sampler.accept(tok);
      if (j->generated.empty()) {
        j->t_first = std::chrono::steady_clock::now();
        metrics_.prefill_tok_s = (j->prompt.size() - j->reuse) / seconds(j->t_first - j->t_placed);
      }
      if (std::binary_search(eog_.begin(), eog_.end(), tok)) {
        j->outcome.finish_reason = "stop";
        continue;
      }
      j->generated.push_back(tok);
      const bool more = j->reply->add(tok, logits);
      const bool limit = j->g.max_tokens &&
                         static_cast<int64_t>(j->generated.size()) >= *j->g.max_tokens;
      const bool full = model_.n_past(j->seq) >= model_.n_ctx();
      if (!more || limit || full) {
        j->outcome.finish_reason = (limit || full) && !j->reply->stopped() ? "length" : "stop";
        continue;
      }
      j->pending = tok;
    }
    // A job with its whole prompt in the cache and no token to feed has ended.
    std::erase_if(active_, [&](const std::shared_ptr<Job>& j) {
      if (j->fed < j->prompt.size() || j->pending) return false;
      finish(*j);
      return true;
    });
  }
}

}  // namespace brickc::serve
