// The CUDA Driver API as brickc uses it: a table of entry points resolved from libcuda.so.1
// with dlsym, so the binary has no link-time dependency on the driver and the build none on
// the toolkit. The only header that includes cuda_abi.h; the RAII wrappers (context.h,
// memory.h, ...) hide it from the rest.
#pragma once
#include <string>
#include <string_view>

#include "runtime/cuda/cuda_abi.h"

namespace brickc::cuda {

struct DriverApi {
#define BRICKC_CUDA_MEMBER(name, symbol, ret, ...) ret (*name)(__VA_ARGS__) = nullptr;
  BRICKC_CUDA_DRIVER_ENTRY_POINTS(BRICKC_CUDA_MEMBER)
#undef BRICKC_CUDA_MEMBER
};

// The loaded table; fail()s with probe().why_unusable() when CUDA is not usable here.
const DriverApi& driver();

// dlopen + dlsym of every entry point, once; no cuInit. nullptr and *why set on failure;
// *library names the file found, if any. For the probe (driver.h), which must not throw;
// everything else calls driver().
const DriverApi* load_driver_api(std::string* why, std::string* library);

// "CUDA_ERROR_OUT_OF_MEMORY (out of memory)".
std::string describe(CUresult r);

// Throws brickc::Error "CUDA call <call> failed: <CUDA_ERROR_NAME> (<text>)" unless success.
void check(CUresult r, std::string_view call);

}  // namespace brickc::cuda
