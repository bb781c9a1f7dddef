// The default thread count (runtime/cpu/cores.h): cores counted from a sysfs tree written
// here, with the sibling lists of a 2-core, 4-thread machine, and on this machine.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "runtime/cpu/cores.h"

namespace brickc::cpu {
namespace {

namespace fs = std::filesystem;

class CpuCores : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("brickc_cores_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "_" + std::to_string(reinterpret_cast<uintptr_t>(this)));
    // CPUs 0 and 2 are the two threads of one core, 1 and 3 of the other.
    const char* siblings[] = {"0,2", "1,3", "0,2", "1,3"};
    for (int c = 0; c < 4; ++c) {
      const fs::path dir = root_ / ("cpu" + std::to_string(c)) / "topology";
      fs::create_directories(dir);
      std::ofstream(dir / "thread_siblings_list") << siblings[c] << "\n";
    }
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(CpuCores, CountsCoresNotHardwareThreads) {
  EXPECT_EQ(count_cores(root_, {0, 1, 2, 3}), 2);
  EXPECT_EQ(count_cores(root_, {0, 1}), 2);  // one thread of each core allowed
  EXPECT_EQ(count_cores(root_, {0, 2}), 1);  // both threads of one core
  EXPECT_EQ(count_cores(root_, {3}), 1);
}

TEST_F(CpuCores, AnUnreadableCpuCountsNothing) {
  EXPECT_EQ(count_cores(root_, {0, 4}), 0);  // no cpu4 in the tree
}

TEST(CpuCoresHere, BetweenOneAndTheHardwareThreads) {
  const int n = physical_cores();
  EXPECT_GE(n, 1);
  EXPECT_LE(n, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

}  // namespace
}  // namespace brickc::cpu
