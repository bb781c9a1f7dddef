// The thread pool hands out every index exactly once, waits for all of them, and passes
// exceptions from workers to the caller.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <vector>

#include "runtime/cpu/thread_pool.h"

namespace brickc::cpu {
namespace {

TEST(CpuThreadPool, CoversEveryIndexOnce) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.n_threads(), threads);
    for (int64_t n : {0, 1, 7, 100, 1001})
      for (int64_t grain : {1, 3, 64, 5000}) {
        std::vector<std::atomic<int>> hits(n);
        pool.run_parallel(n, grain, [&](int64_t b, int64_t e) {
          EXPECT_LE(e - b, grain);
          for (int64_t i = b; i < e; ++i) hits[i]++;
        });
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(hits[i].load(), 1) << "n=" << n << " grain=" << grain << " i=" << i;
      }
  }
}

TEST(CpuThreadPool, ManyJobsInARow) {
  ThreadPool pool(3);
  std::atomic<int64_t> sum{0};
  for (int job = 0; job < 2000; ++job)
    pool.run_parallel(10, 1, [&](int64_t b, int64_t e) { sum += e - b; });
  EXPECT_EQ(sum.load(), 20000);
}

// Short jobs in a row on more threads than the machine has CPUs: workers often come to a
// job after it has ended, and their claims must then fail rather than run a chunk of the
// job that follows with the ended job's function, or of the ended job again. Jobs
// alternate between two functions and two sets of counters, and a job's counters are
// checked again after the next job has run.
TEST(CpuThreadPool, LateWorkersRunNoChunkOfAnotherJob) {
  struct Job {
    int64_t n = 0, grain = 1;
    std::unique_ptr<std::atomic<int>[]> hits;
    std::atomic<int> outside{0};
    void check(int job) const {
      ASSERT_EQ(outside.load(), 0) << "job " << job;
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "job " << job << " i " << i;
    }
  };
  Job jobs[2];
  std::function<void(int64_t, int64_t)> fns[2];
  for (int k = 0; k < 2; ++k)
    fns[k] = [&j = jobs[k]](int64_t b, int64_t e) {
      if (b < 0 || e > j.n || e - b > j.grain) ++j.outside;
      for (int64_t i = std::max<int64_t>(b, 0); i < std::min(e, j.n); ++i) j.hits[i]++;
    };
  ThreadPool pool(8);
  std::mt19937 rng(std::random_device{}());
  for (int job = 0; job < 3000; ++job) {
    Job& j = jobs[job % 2];
    if (job >= 2) j.check(job - 2);  // untouched while job - 1 ran
    j.n = std::uniform_int_distribution<int64_t>(2, 64)(rng);
    j.grain = std::uniform_int_distribution<int64_t>(1, 8)(rng);
    j.hits = std::make_unique<std::atomic<int>[]>(static_cast<size_t>(j.n));
    j.outside = 0;
    pool.run_parallel(j.n, j.grain, fns[job % 2]);
    j.check(job);
  }
}

TEST(CpuThreadPool, RethrowsAndStaysUsable) {
  ThreadPool pool(3);
  EXPECT_THROW(pool.run_parallel(100, 1,
                                 [](int64_t b, int64_t) {
                                   if (b == 57) throw std::runtime_error("boom");
                                 }),
               std::runtime_error);
  std::atomic<int64_t> count{0};
  pool.run_parallel(100, 1, [&](int64_t b, int64_t e) { count += e - b; });
  EXPECT_EQ(count.load(), 100);
}

}  // namespace
}  // namespace brickc::cpu
