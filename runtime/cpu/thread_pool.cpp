#include "runtime/cpu/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace brickc::cpu {

ThreadPool::ThreadPool(int n_threads) {
  for (int i = 1; i < n_threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mu_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

namespace {

// How long a thread polls before it sleeps: longer than the gaps between a step's jobs (a
// norm, a RoPE), far shorter than a human notices as an idle core.
constexpr auto kSpin = std::chrono::microseconds(200);

// Polls `done` until it holds or kSpin has passed; true if it holds. It yields the core
// now and then, so that with more threads than cores the thread it waits for can run.
template <class Pred>
bool spin_until(Pred done) {
  const auto end = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; ++i) {
    if (done()) return true;
    if ((i & 63) == 63) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::yield();
    }
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
  }
}

}  // namespace

void ThreadPool::run_parallel(int64_t n, int64_t grain,
                              const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  if (workers_.empty() || n <= grain) {
    for (int64_t b = 0; b < n; b += grain) fn(b, std::min(n, b + grain));
    return;
  }
  fn_ = &fn;
  n_ = n;
  grain_ = grain;
  error_ = nullptr;
  next_.store(0, std::memory_order_relaxed);
  busy_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  // Sequentially consistent with the sleepers' count: a worker going to sleep either is
  // counted here or sees the new generation before it waits.
  generation_.fetch_add(1);
  if (sleepers_.load() > 0) {
    std::lock_guard lock(mu_);
    wake_.notify_all();
  }
  drain();
  const auto idle = [this] { return busy_.load() == 0; };
  if (!spin_until(idle)) {
    std::unique_lock lock(mu_);
    caller_asleep_.store(true);
    done_.wait(lock, idle);
    caller_asleep_.store(false);
  }
  fn_ = nullptr;
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

void ThreadPool::drain() {
  for (;;) {
    const int64_t b = next_.fetch_add(grain_);
    if (b >= n_) return;
    try {
      (*fn_)(b, std::min(n_, b + grain_));
    } catch (...) {
      std::lock_guard lock(mu_);
      if (!error_) error_ = std::current_exception();
      next_.store(n_);  // the job has failed: stop handing out chunks
    }
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    const auto job = [&] { return stop_.load() || generation_.load() != seen; };
    if (!spin_until(job)) {
      std::unique_lock lock(mu_);
      sleepers_.fetch_add(1);
      wake_.wait(lock, job);
      sleepers_.fetch_sub(1);
    }
    if (stop_.load()) return;
    seen = generation_.load(std::memory_order_acquire);
    drain();
    // The caller, if asleep, set its flag before it last looked at busy_ (both
    // sequentially consistent): the last worker out sees the flag or the caller sees 0.
    if (busy_.fetch_sub(1) == 1 && caller_asleep_.load()) {
      std::lock_guard lock(mu_);
      done_.notify_one();
    }
  }
}

}  // namespace brickc::cpu
