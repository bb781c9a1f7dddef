#include "runtime/top/monitor.h"

#include <chrono>
#include <cmath>
#include <random>

#include "frontend/qwen2/config.h"
#include "ir/error.h"
#include "passes/device_profile.h"

namespace brickc::top {
namespace {

using Clock = std::chrono::steady_clock;

const ir::Graph& timed_graph(const runtime::Decoder& d) {
  const ir::Graph* g = d.profiled_graph();
  if (!g) fail("brickc top: the backend does not time its bricks (open it with profiling on)");
  return *g;
}

}  // namespace

Monitor::Monitor(runtime::Decoder& d, const gguf::File& file, const MonitorOptions& o)
    : d_(d), file_(file), o_(o), graph_(timed_graph(d)), verify_(o.verify_every > 0) {
  if (o.window < 1) fail("brickc top: a window of {} steps holds nothing", o.window);
  if (o.prompt_tokens < 1) fail("brickc top: the prompt needs a token, got {}", o.prompt_tokens);
  if (d.n_ctx() < o.prompt_tokens + 2)
    fail("brickc top: a context of {} positions cannot hold the {}-token prompt and a step",
         d.n_ctx(), o.prompt_tokens);
  const uint32_t n_vocab = qwen2::read_config(file).n_vocab;
  std::mt19937 gen(o.seed);
  std::uniform_int_distribution<uint32_t> pick(0, n_vocab - 1);
  for (int i = 0; i < o.prompt_tokens; ++i) prompt_.push_back(static_cast<int32_t>(pick(gen)));

  published_.model = o.model;
  published_.device = o.device;
  published_.bandwidth_gbs = passes::device_profile(o.budget_profile).bandwidth_gbs;
  published_.verify_every = o.verify_every;
  thread_ = std::thread([this] { generate(); });
}

Monitor::~Monitor() { stop(); }

void Monitor::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

Snapshot Monitor::snapshot() const {
  Snapshot s;
  std::vector<std::vector<double>> window;
  int64_t kv_sum = 0;
  {
    std::lock_guard lock(mu_);
    s = published_;
    window.assign(brick_us_.begin(), brick_us_.end());
    s.step_us.assign(step_us_.begin(), step_us_.end());
    for (int64_t n : kv_len_) kv_sum += n;
  }
  // The statistics are computed outside the lock, so that the generator never waits on them.
  // Bytes and budgets are a step's at the window's mean cache length: attention's grow with
  // the context.
  if (!window.empty()) {
    const ir::Graph costed = bench::costed_at(graph_, kv_sum / static_cast<int64_t>(window.size()),
                                              o_.budget_profile);
    bench::BrickProfiler prof(costed);
    for (const auto& us : window) prof.add_step(us);
    s.profile = prof.report(s.bandwidth_gbs);
  }
  return s;
}

Snapshot Monitor::wait_for_samples(int64_t samples, std::chrono::milliseconds timeout) const {
  {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, timeout,
                      [&] { return published_.samples >= samples || !published_.running; });
  }
  return snapshot();
}

void Monitor::generate() {
  try {
    int32_t token = 0;
    restart(token);
    for (int64_t i = 0; !stop_; ++i) {
      if (d_.n_past() >= d_.n_ctx()) {
        restart(token);
        std::lock_guard lock(mu_);
        ++published_.restarts;
      }
      const int64_t after_warmup = i - o_.warmup;
      if (after_warmup >= 0 && verify_ && after_warmup % o_.verify_every == 0)
        verified_step(token);
      else
        step(token, after_warmup >= 0);
      {
        std::lock_guard lock(mu_);
        ++published_.steps;
        if (o_.max_samples > 0 && published_.samples >= o_.max_samples) break;
      }
      changed_.notify_all();
    }
  } catch (const std::exception& e) {
    std::lock_guard lock(mu_);
    published_.error = e.what();
  } catch (...) {  // an exception escaping the thread would end the process
    std::lock_guard lock(mu_);
    published_.error = "an unknown exception";
  }
  {
    std::lock_guard lock(mu_);
    published_.running = false;
  }
  changed_.notify_all();
}

void Monitor::restart(int32_t& token) {
  d_.reset();
  d_.prefill(prompt_);
  token = d_.argmax();
}

void Monitor::step(int32_t& token, bool timed) {
  const auto t0 = Clock::now();
  d_.decode(token);
  token = d_.argmax();
  const double wall_us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  if (!timed) return;
  std::vector<double> us = d_.last_brick_us();
  if (us.size() != graph_.bricks().size())
    fail("brickc top: the backend timed {} bricks of a graph of {}", us.size(),
         graph_.bricks().size());
  for (size_t i = 0; i < us.size(); ++i)
    if (!std::isfinite(us[i]))
      fail("brickc top: brick {} ({}) was timed at {} µs", i, ir::keyword(graph_.bricks()[i].kind),
           us[i]);
  std::lock_guard lock(mu_);
  brick_us_.push_back(std::move(us));
  step_us_.push_back(wall_us);
  kv_len_.push_back(d_.n_past());
  if (brick_us_.size() > o_.window) {
    brick_us_.pop_front();
    step_us_.pop_front();
    kv_len_.pop_front();
  }
  ++published_.samples;
}

// One step through the verifier, brick by brick against the CPU reference: far slower than
// a plain step, so it is neither timed nor run often; failures are counted, never thrown,
// so that the assertions panel shows them while generation goes on.
void Monitor::verified_step(int32_t& token) {
  if (!verifier_) {
    verifier_ = std::make_unique<runtime::Verifier>(file_, o_.verify_threads);
    verifier_->set_stop_on_failure(false);
  }
  const bool attached =
      d_.set_step_fn([this](runtime::BrickStepper& dut, std::span<const int32_t> toks,
                            int64_t pos) {
        for (const runtime::BrickResult& r : verifier_->step(dut, toks, pos))
          if (!r.finite) ++non_finite_[r.kind];
      });
  if (!attached) {
    verify_ = false;
    {
      std::lock_guard lock(mu_);
      published_.verify_unavailable = "this backend cannot run its bricks one at a time";
    }
    step(token, false);
    return;
  }
  try {
    d_.decode(token);
    token = d_.argmax();
  } catch (...) {
    d_.set_step_fn({});
    throw;
  }
  d_.set_step_fn({});
  std::lock_guard lock(mu_);
  published_.verify = verifier_->stats();
  published_.non_finite = non_finite_;
}

}  // namespace brickc::top
