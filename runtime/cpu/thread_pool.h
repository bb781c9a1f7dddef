// A small persistent pool of worker threads for the CPU engines: run_parallel splits
// [0, n) into fixed chunks that the caller and the workers claim. Each index is computed
// by exactly one thread with the same code, so results do not depend on the thread count.
// A decode step is a few hundred short jobs, so idle workers and the waiting caller spin
// briefly before they sleep: a futex wake-up per job would cost more than the job.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace brickc::cpu {

class ThreadPool {
 public:
  // n_threads counts the calling thread: 1 runs everything inline.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int n_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) on disjoint ranges covering [0, n), each of at most `grain`
  // indices, and returns when all are done. Not reentrant; the first exception thrown by
  // fn is rethrown here after the others finish.
  void run_parallel(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

 private:
  void worker_loop();
  void drain();  // claims and runs chunks of the current job until none is left

  std::vector<std::thread> workers_;
  // A job is handed out without locks and ends when its chunks are done, whichever threads
  // ran them: a worker that comes late (its CPU was taken away, on a shared host) finds
  // nothing left and is not waited for. claim_ holds the job's number (high 32 bits) and
  // its next chunk (low 32); a chunk is claimed by a compare-exchange that also checks the
  // number, so a late worker's claim on an ended job fails. The caller closes claim_
  // before it rewrites the job's fields (release stores; the claimers load them with
  // acquire before their compare-exchange), so fields a claimer read are its job's
  // whenever its claim succeeds. generation_ is bumped per job to wake the workers; the
  // mutex and condition variables only put threads to sleep and wake them, which the
  // sleepers_ count and caller_asleep_ flag announce; the first error of a job is kept
  // under the mutex.
  std::mutex mu_;
  std::condition_variable wake_, done_;
  alignas(64) std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> sleepers_{0};            // workers asleep on wake_
  std::atomic<bool> caller_asleep_{false};  // run_parallel asleep on done_
  alignas(64) std::atomic<uint64_t> claim_{0};
  alignas(64) std::atomic<int64_t> finished_{0};  // chunks of the current job done

  std::atomic<const std::function<void(int64_t, int64_t)>*> fn_{nullptr};
  std::atomic<int64_t> n_{0}, grain_{1};
  std::exception_ptr error_;  // written under mu_, read by the caller once the job is done
};

}  // namespace brickc::cpu
