// brickc top's GPU reading (runtime/top/nvml) where there may be no NVIDIA driver: a
// reading or a reason, never a crash; a device that does not exist is a reason too.
#include <gtest/gtest.h>

#include "runtime/top/nvml.h"

namespace brickc::top {
namespace {

TEST(TopNvml, ReadsOrSaysWhy) {
  const GpuReading g = read_gpu(0);
  if (g.ok()) {
    EXPECT_FALSE(g.name.empty());
    EXPECT_LE(g.mem_used, g.mem_total);
  } else {
    EXPECT_EQ(g.error.rfind("NVML", 0), 0u) << g.error;
  }
  const GpuReading none = read_gpu(4096);
  EXPECT_FALSE(none.ok());
  EXPECT_EQ(none.error.rfind("NVML", 0), 0u) << none.error;
}

}  // namespace
}  // namespace brickc::top
