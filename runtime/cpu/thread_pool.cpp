#include "runtime/cpu/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "ir/error.h"

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

constexpr uint64_t kChunkBits = 0xffffffff;  // claim_'s low half: the next chunk
constexpr uint64_t kClosed = kChunkBits;     // a job's chunk number past any job's chunks

}  // namespace

void ThreadPool::run_parallel(int64_t n, int64_t grain,
                              const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  if (workers_.empty() || n <= grain) {
    for (int64_t b = 0; b < n; b += grain) fn(b, std::min(n, b + grain));
    return;
  }
  const int64_t chunks = (n + grain - 1) / grain;
  if (static_cast<uint64_t>(chunks) >= kClosed)
    fail("internal: {} chunks in one thread pool job; at most {}", chunks, kClosed - 1);
  // The previous job's late claims fail from here on (the number changes), and those
  // that read the fields written next fail too: the fields are released after this store.
  const uint64_t job = (claim_.load(std::memory_order_relaxed) >> 32) + 1;
  claim_.store(job << 32 | kClosed);
  fn_.store(&fn, std::memory_order_release);
  n_.store(n, std::memory_order_release);
  grain_.store(grain, std::memory_order_release);
  error_ = nullptr;
  finished_.store(0, std::memory_order_relaxed);
  claim_.store(job << 32, std::memory_order_release);
  // Sequentially consistent with the sleepers' count: a worker going to sleep either is
  // counted here or sees the new generation before it waits.
  generation_.fetch_add(1);
  if (sleepers_.load() > 0) {
    std::lock_guard lock(mu_);
    wake_.notify_all();
  }
  drain();
  const auto done = [this, chunks] { return finished_.load() == chunks; };
  if (!spin_until(done)) {
    std::unique_lock lock(mu_);
    caller_asleep_.store(true);
    done_.wait(lock, done);
    caller_asleep_.store(false);
  }
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

void ThreadPool::drain() {
  uint64_t v = claim_.load(std::memory_order_acquire);
  for (;;) {
    // The fields of v's job, unless it has ended: then the claim below fails.
    const auto* fn = fn_.load(std::memory_order_acquire);
    const int64_t n = n_.load(std::memory_order_acquire);
    const int64_t grain = grain_.load(std::memory_order_acquire);
    const int64_t chunks = (n + grain - 1) / grain;
    const auto c = static_cast<int64_t>(v & kChunkBits);
    if (c >= chunks) return;
    if (!claim_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire))
      continue;
    int64_t count = 1;  // chunks this claim finishes
    try {
      (*fn)(c * grain, std::min(n, (c + 1) * grain));
    } catch (...) {
      std::lock_guard lock(mu_);
      if (!error_) error_ = std::current_exception();
      // The job has failed: its unclaimed chunks are closed, and count as finished.
      uint64_t w = claim_.load(std::memory_order_acquire);
      while ((w >> 32) == (v >> 32) && static_cast<int64_t>(w & kChunkBits) < chunks) {
        if (claim_.compare_exchange_weak(w, (w & ~kChunkBits) | static_cast<uint64_t>(chunks))) {
          count += chunks - static_cast<int64_t>(w & kChunkBits);
          break;
        }
      }
    }
    // The caller, if asleep, set its flag before it last looked at finished_ (both
    // sequentially consistent): the last chunk's thread sees the flag or the caller sees
    // the count.
    if (finished_.fetch_add(count) + count == chunks && caller_asleep_.load()) {
      std::lock_guard lock(mu_);
      done_.notify_one();
    }
    v = claim_.load(std::memory_order_acquire);
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
  }
}

}  // namespace brickc::cpu
