// brickc's own declarations of the CUDA driver and NVRTC ABI (runtime/cuda/cuda_abi.h,
// codegen/ptx/nvrtc_abi.h) against the toolkit's cuda.h and nvrtc.h: every constant, the
// launch structs' layout, each entry point's versioned symbol and its full signature.
// Built only where the toolkit's headers exist (test/CMakeLists.txt).
#include <gtest/gtest.h>
#include <stdint.h>
#include <stdlib.h>

#include <cstddef>
#include <type_traits>

#include "codegen/ptx/nvrtc_abi.h"
#include "runtime/cuda/cuda_abi.h"

// The toolkit's headers inside a namespace, so that both declarations of each name can be
// compared; their own includes (stdlib.h, stdint.h) are already in and stay global.
namespace real {
#include <cuda.h>
#include <nvrtc.h>
}  // namespace real

namespace {

// Our type -> the toolkit's type of the same name, through pointers, const and functions.
// The opaque handle structs need no mapping: ours are declared first, at global scope, so
// the headers' `struct CUstream_st*` inside `real` names the very same types.
template <typename T>
struct Real {
  using type = T;
};
template <typename T>
using RealT = typename Real<T>::type;
template <typename T>
struct Real<T*> {
  using type = RealT<T>*;
};
template <typename T>
struct Real<const T> {
  using type = const RealT<T>;
};
template <typename R, typename... A>
struct Real<R (*)(A...)> {
  using type = RealT<R> (*)(RealT<A>...);
};
#define BRICKC_SAME_TYPE(ours, theirs) \
  template <>                          \
  struct Real<ours> {                  \
    using type = real::theirs;         \
  };
BRICKC_SAME_TYPE(CUresult, CUresult)
BRICKC_SAME_TYPE(CUdevice_attribute, CUdevice_attribute)
BRICKC_SAME_TYPE(CUfunction_attribute, CUfunction_attribute)
BRICKC_SAME_TYPE(CUjit_option, CUjit_option)
BRICKC_SAME_TYPE(CUstreamCaptureMode, CUstreamCaptureMode)
BRICKC_SAME_TYPE(CUlaunchConfig, CUlaunchConfig)
BRICKC_SAME_TYPE(nvrtcResult, nvrtcResult)
#undef BRICKC_SAME_TYPE

#define BRICKC_STR2(x) #x
#define BRICKC_STR(x) BRICKC_STR2(x)

TEST(CudaAbi, EntryPointsHaveTheHeadersSymbolsAndSignatures) {
  // `name` expands through cuda.h's macros to the versioned symbol it declares.
#define BRICKC_CHECK_DRIVER(name, symbol, ret, ...)                                      \
  EXPECT_STREQ(BRICKC_STR(name), #symbol);                                               \
  EXPECT_TRUE((std::is_same_v<RealT<ret (*)(__VA_ARGS__)>, decltype(&real::symbol)>)) \
      << #symbol " has another signature in cuda.h";
  BRICKC_CUDA_DRIVER_ENTRY_POINTS(BRICKC_CHECK_DRIVER)
#undef BRICKC_CHECK_DRIVER
#define BRICKC_CHECK_NVRTC(name, ret, ...)                                              \
  EXPECT_TRUE((std::is_same_v<RealT<ret (*)(__VA_ARGS__)>, decltype(&real::name)>)) \
      << #name " has another signature in nvrtc.h";
  BRICKC_NVRTC_ENTRY_POINTS(BRICKC_CHECK_NVRTC)
#undef BRICKC_CHECK_NVRTC
}

TEST(CudaAbi, ConstantsHaveTheHeadersValues) {
#define BRICKC_CHECK_VALUE(c) EXPECT_EQ(static_cast<long long>(c), static_cast<long long>(real::c)) << #c;
  BRICKC_CHECK_VALUE(CUDA_SUCCESS)
  BRICKC_CHECK_VALUE(CUDA_ERROR_OUT_OF_MEMORY)
  BRICKC_CHECK_VALUE(CUDA_ERROR_NOT_FOUND)
  BRICKC_CHECK_VALUE(CU_DEVICE_ATTRIBUTE_CLOCK_RATE)
  BRICKC_CHECK_VALUE(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
  BRICKC_CHECK_VALUE(CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE)
  BRICKC_CHECK_VALUE(CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH)
  BRICKC_CHECK_VALUE(CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE)
  BRICKC_CHECK_VALUE(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
  BRICKC_CHECK_VALUE(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)
  BRICKC_CHECK_VALUE(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)
  BRICKC_CHECK_VALUE(CU_FUNC_ATTRIBUTE_NUM_REGS)
  BRICKC_CHECK_VALUE(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)
  BRICKC_CHECK_VALUE(CU_JIT_INFO_LOG_BUFFER)
  BRICKC_CHECK_VALUE(CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES)
  BRICKC_CHECK_VALUE(CU_JIT_ERROR_LOG_BUFFER)
  BRICKC_CHECK_VALUE(CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
  BRICKC_CHECK_VALUE(CU_STREAM_CAPTURE_MODE_THREAD_LOCAL)
  BRICKC_CHECK_VALUE(CU_LAUNCH_ATTRIBUTE_COOPERATIVE)
  BRICKC_CHECK_VALUE(CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION)
  BRICKC_CHECK_VALUE(CU_STREAM_NON_BLOCKING)
  BRICKC_CHECK_VALUE(CU_EVENT_DEFAULT)
  BRICKC_CHECK_VALUE(NVRTC_SUCCESS)
#undef BRICKC_CHECK_VALUE
}

TEST(CudaAbi, LaunchStructsHaveTheHeadersLayout) {
  EXPECT_EQ(sizeof(CUlaunchAttribute), sizeof(real::CUlaunchAttribute));
  EXPECT_EQ(offsetof(CUlaunchAttribute, value), offsetof(real::CUlaunchAttribute, value));
  EXPECT_EQ(offsetof(CUlaunchAttribute, value.programmaticStreamSerializationAllowed),
            offsetof(real::CUlaunchAttribute, value.programmaticStreamSerializationAllowed));
  EXPECT_EQ(offsetof(CUlaunchAttribute, value.cooperative),
            offsetof(real::CUlaunchAttribute, value.cooperative));
  EXPECT_EQ(sizeof(CUlaunchConfig), sizeof(real::CUlaunchConfig));
#define BRICKC_CHECK_FIELD(f) EXPECT_EQ(offsetof(CUlaunchConfig, f), offsetof(real::CUlaunchConfig, f)) << #f;
  BRICKC_CHECK_FIELD(gridDimX)
  BRICKC_CHECK_FIELD(gridDimY)
  BRICKC_CHECK_FIELD(gridDimZ)
  BRICKC_CHECK_FIELD(blockDimX)
  BRICKC_CHECK_FIELD(blockDimY)
  BRICKC_CHECK_FIELD(blockDimZ)
  BRICKC_CHECK_FIELD(sharedMemBytes)
  BRICKC_CHECK_FIELD(hStream)
  BRICKC_CHECK_FIELD(attrs)
  BRICKC_CHECK_FIELD(numAttrs)
#undef BRICKC_CHECK_FIELD
  EXPECT_EQ(sizeof(CUdeviceptr), sizeof(real::CUdeviceptr));
  EXPECT_TRUE((std::is_same_v<CUdevice, real::CUdevice>));
}

}  // namespace
