// Without a usable GPU, every entry into the CUDA runtime fails with the probe's reason
// (the binary still starts: the driver is dlopen-ed, never linked).
#include <gtest/gtest.h>

#include <string>

#include "ir/error.h"
#include "runtime/cuda/api.h"
#include "runtime/cuda/context.h"
#include "runtime/cuda/driver.h"

namespace brickc::cuda {
namespace {

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(CudaDriverApi, WithoutGpuFailsWithTheProbesReason) {
  if (probe().usable()) GTEST_SKIP() << "a usable GPU is present";
  const std::string why = probe().why_unusable();
  ASSERT_FALSE(why.empty());
  std::string msg = error_of([] { driver(); });
  EXPECT_NE(msg.find("CUDA is not usable"), std::string::npos) << msg;
  EXPECT_NE(msg.find(why), std::string::npos) << msg;
  msg = error_of([] { Context c(0); });
  EXPECT_NE(msg.find(why), std::string::npos) << msg;
}

TEST(CudaDriverApi, LoaderAgreesWithTheProbe) {
  std::string why, library;
  const DriverApi* api = load_driver_api(&why, &library);
  if (!api) {
    EXPECT_FALSE(probe().driver_loaded);
    EXPECT_EQ(probe().driver_error, why);
  } else {
    EXPECT_TRUE(why.empty());
    EXPECT_NE(api->cuLaunchKernelEx, nullptr);
    EXPECT_NE(library.find("libcuda.so"), std::string::npos) << library;
  }
}

}  // namespace
}  // namespace brickc::cuda
