// The thread pool hands out every index exactly once, waits for all of them, and passes
// exceptions from workers to the caller.
#include <gtest/gtest.h>

#include <atomic>
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
