// The CUDA Driver API as brickc uses it: a table of entry points resolved from libcuda.so.1
// with dlsym, so the binary has no link-time dependency on the driver. The only header
// that includes cuda.h; the RAII wrappers (context.h, memory.h, ...) hide it from the rest.
#pragma once
#include <cuda.h>

#include <string>
#include <string_view>

namespace brickc::cuda {

// Every entry point brickc calls. cuda.h #defines most of these names to their current
// versioned symbols (cuMemAlloc -> cuMemAlloc_v2, cuEventElapsedTime -> _v2, ...); the
// table's members and the dlsym-ed names go through the same macros, so a member always
// has the signature and the symbol that the header declares for that name.
// clang-format off
#define BRICKC_CUDA_DRIVER_ENTRY_POINTS(X)                                                    \
  X(cuInit) X(cuDriverGetVersion) X(cuGetErrorName) X(cuGetErrorString)                       \
  X(cuDeviceGet) X(cuDeviceGetCount) X(cuDeviceGetName) X(cuDeviceTotalMem)                   \
  X(cuDeviceGetAttribute) X(cuDevicePrimaryCtxRetain) X(cuDevicePrimaryCtxRelease)            \
  X(cuCtxSetCurrent) X(cuCtxGetCurrent) X(cuCtxGetDevice) X(cuCtxSynchronize)                 \
  X(cuMemAlloc) X(cuMemFree) X(cuMemAllocHost) X(cuMemFreeHost) X(cuMemGetInfo)               \
  X(cuMemcpyHtoD) X(cuMemcpyDtoH) X(cuMemcpyDtoD)                                             \
  X(cuMemcpyHtoDAsync) X(cuMemcpyDtoHAsync) X(cuMemcpyDtoDAsync)                              \
  X(cuMemsetD8) X(cuMemsetD32) X(cuMemsetD8Async) X(cuMemsetD32Async)                         \
  X(cuModuleLoadDataEx) X(cuModuleUnload) X(cuModuleGetFunction) X(cuModuleGetGlobal)         \
  X(cuFuncSetAttribute) X(cuFuncGetAttribute) X(cuLaunchKernel) X(cuLaunchKernelEx)           \
  X(cuOccupancyMaxActiveBlocksPerMultiprocessor)                                              \
  X(cuStreamCreate) X(cuStreamDestroy) X(cuStreamSynchronize)                                 \
  X(cuStreamBeginCapture) X(cuStreamEndCapture)                                               \
  X(cuGraphInstantiateWithFlags) X(cuGraphLaunch) X(cuGraphExecDestroy) X(cuGraphDestroy)     \
  X(cuGraphGetNodes)                                                                          \
  X(cuEventCreate) X(cuEventDestroy) X(cuEventRecord) X(cuEventSynchronize)                   \
  X(cuEventElapsedTime)
// clang-format on

struct DriverApi {
#define BRICKC_CUDA_MEMBER(fn) decltype(&::fn) fn = nullptr;
  BRICKC_CUDA_DRIVER_ENTRY_POINTS(BRICKC_CUDA_MEMBER)
#undef BRICKC_CUDA_MEMBER
};

// The loaded table; fail()s with probe().why_unusable() when CUDA is not usable here.
const DriverApi& driver();

// dlopen + dlsym of every entry point, once; no cuInit. nullptr and *why set on failure.
// For the probe (driver.h), which must not throw; everything else calls driver().
const DriverApi* load_driver_api(std::string* why);

// "CUDA_ERROR_OUT_OF_MEMORY (out of memory)".
std::string describe(CUresult r);

// Throws brickc::Error "CUDA call <call> failed: <CUDA_ERROR_NAME> (<text>)" unless success.
void check(CUresult r, std::string_view call);

}  // namespace brickc::cuda
