// The slice of NVRTC's C ABI that brickc calls, declared here rather than taken from the
// toolkit's nvrtc.h, so that brickc builds without the toolkit and loads NVRTC at run time
// (nvrtc.cpp). test/unit/cuda_abi_test.cpp checks it against nvrtc.h where that exists.
#pragma once
#include <cstddef>

enum nvrtcResult : int { NVRTC_SUCCESS = 0 };
using nvrtcProgram = struct _nvrtcProgram*;

// X(name, return type, parameters...), each exported under its own name.
// clang-format off
#define BRICKC_NVRTC_ENTRY_POINTS(X)                                                           \
  X(nvrtcVersion, nvrtcResult, int*, int*)                                                     \
  X(nvrtcGetErrorString, const char*, nvrtcResult)                                             \
  X(nvrtcCreateProgram, nvrtcResult, nvrtcProgram*, const char*, const char*, int,             \
    const char* const*, const char* const*)                                                    \
  X(nvrtcDestroyProgram, nvrtcResult, nvrtcProgram*)                                           \
  X(nvrtcCompileProgram, nvrtcResult, nvrtcProgram, int, const char* const*)                   \
  X(nvrtcGetPTXSize, nvrtcResult, nvrtcProgram, size_t*)                                       \
  X(nvrtcGetPTX, nvrtcResult, nvrtcProgram, char*)                                             \
  X(nvrtcGetCUBINSize, nvrtcResult, nvrtcProgram, size_t*)                                     \
  X(nvrtcGetCUBIN, nvrtcResult, nvrtcProgram, char*)                                           \
  X(nvrtcGetProgramLogSize, nvrtcResult, nvrtcProgram, size_t*)                                \
  X(nvrtcGetProgramLog, nvrtcResult, nvrtcProgram, char*)
// clang-format on
