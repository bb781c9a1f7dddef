// The slice of the CUDA Driver API's C ABI that brickc calls, declared here rather than
// taken from the toolkit's cuda.h, so that brickc builds on machines without the toolkit
// and finds the driver at run time (api.h). Names, values, layouts and the versioned
// symbols are those of cuda.h for CUDA 12 and 13; test/unit/cuda_abi_test.cpp checks each
// against the real header wherever the toolkit is installed.
#pragma once
#include <cstddef>

#include "runtime/cuda/handles.h"

enum CUresult : int {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_NOT_FOUND = 500,
};
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = CUctx_st*;
using CUmodule = CUmod_st*;
using CUfunction = CUfunc_st*;
using CUstream = CUstream_st*;
using CUevent = CUevent_st*;
using CUgraph = CUgraph_st*;
using CUgraphExec = CUgraphExec_st*;
using CUgraphNode = struct CUgraphNode_st*;

enum CUdevice_attribute : int {
  CU_DEVICE_ATTRIBUTE_CLOCK_RATE = 13,
  CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
  CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE = 36,
  CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH = 37,
  CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE = 38,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
  CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR = 81,
  CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97,
};
enum CUfunction_attribute : int {
  CU_FUNC_ATTRIBUTE_NUM_REGS = 4,
  CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8,
};
enum CUjit_option : int {
  CU_JIT_INFO_LOG_BUFFER = 3,
  CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4,
  CU_JIT_ERROR_LOG_BUFFER = 5,
  CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6,
};
enum CUstreamCaptureMode : int { CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1 };
enum CUlaunchAttributeID : int {
  CU_LAUNCH_ATTRIBUTE_COOPERATIVE = 2,
  CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION = 6,
};
constexpr unsigned CU_STREAM_NON_BLOCKING = 0x1;
constexpr unsigned CU_EVENT_DEFAULT = 0x0;

// cuda.h pads the value union to 64 bytes and the id to 8 so that new attributes keep
// the layout; only the members brickc sets are named.
union CUlaunchAttributeValue {
  char pad[64];
  int cooperative;
  int programmaticStreamSerializationAllowed;
};
struct CUlaunchAttribute {
  CUlaunchAttributeID id;
  char pad[8 - sizeof(CUlaunchAttributeID)];
  CUlaunchAttributeValue value;
};
struct CUlaunchConfig {
  unsigned gridDimX, gridDimY, gridDimZ;
  unsigned blockDimX, blockDimY, blockDimZ;
  unsigned sharedMemBytes;
  CUstream hStream;
  CUlaunchAttribute* attrs;
  unsigned numAttrs;
};

// Every entry point brickc calls: X(name, exported symbol, return type, parameters...).
// The symbol is the versioned one cuda.h maps the name to (cuMemAlloc -> cuMemAlloc_v2).
// clang-format off
#define BRICKC_CUDA_DRIVER_ENTRY_POINTS(X)                                                     \
  X(cuInit, cuInit, CUresult, unsigned)                                                        \
  X(cuDriverGetVersion, cuDriverGetVersion, CUresult, int*)                                    \
  X(cuGetErrorName, cuGetErrorName, CUresult, CUresult, const char**)                          \
  X(cuGetErrorString, cuGetErrorString, CUresult, CUresult, const char**)                      \
  X(cuDeviceGet, cuDeviceGet, CUresult, CUdevice*, int)                                        \
  X(cuDeviceGetCount, cuDeviceGetCount, CUresult, int*)                                        \
  X(cuDeviceGetName, cuDeviceGetName, CUresult, char*, int, CUdevice)                          \
  X(cuDeviceTotalMem, cuDeviceTotalMem_v2, CUresult, size_t*, CUdevice)                        \
  X(cuDeviceGetAttribute, cuDeviceGetAttribute, CUresult, int*, CUdevice_attribute, CUdevice)  \
  X(cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRetain, CUresult, CUcontext*, CUdevice)        \
  X(cuDevicePrimaryCtxRelease, cuDevicePrimaryCtxRelease_v2, CUresult, CUdevice)               \
  X(cuCtxSetCurrent, cuCtxSetCurrent, CUresult, CUcontext)                                     \
  X(cuCtxGetCurrent, cuCtxGetCurrent, CUresult, CUcontext*)                                    \
  X(cuCtxGetDevice, cuCtxGetDevice, CUresult, CUdevice*)                                       \
  X(cuCtxSynchronize, cuCtxSynchronize, CUresult)                                              \
  X(cuMemAlloc, cuMemAlloc_v2, CUresult, CUdeviceptr*, size_t)                                 \
  X(cuMemFree, cuMemFree_v2, CUresult, CUdeviceptr)                                            \
  X(cuMemAllocHost, cuMemAllocHost_v2, CUresult, void**, size_t)                               \
  X(cuMemFreeHost, cuMemFreeHost, CUresult, void*)                                             \
  X(cuMemGetInfo, cuMemGetInfo_v2, CUresult, size_t*, size_t*)                                 \
  X(cuMemcpyHtoD, cuMemcpyHtoD_v2, CUresult, CUdeviceptr, const void*, size_t)                 \
  X(cuMemcpyDtoH, cuMemcpyDtoH_v2, CUresult, void*, CUdeviceptr, size_t)                       \
  X(cuMemcpyDtoD, cuMemcpyDtoD_v2, CUresult, CUdeviceptr, CUdeviceptr, size_t)                 \
  X(cuMemcpyHtoDAsync, cuMemcpyHtoDAsync_v2, CUresult, CUdeviceptr, const void*, size_t,       \
    CUstream)                                                                                  \
  X(cuMemcpyDtoHAsync, cuMemcpyDtoHAsync_v2, CUresult, void*, CUdeviceptr, size_t, CUstream)   \
  X(cuMemcpyDtoDAsync, cuMemcpyDtoDAsync_v2, CUresult, CUdeviceptr, CUdeviceptr, size_t,       \
    CUstream)                                                                                  \
  X(cuMemsetD8, cuMemsetD8_v2, CUresult, CUdeviceptr, unsigned char, size_t)                   \
  X(cuMemsetD32, cuMemsetD32_v2, CUresult, CUdeviceptr, unsigned, size_t)                      \
  X(cuMemsetD8Async, cuMemsetD8Async, CUresult, CUdeviceptr, unsigned char, size_t, CUstream)  \
  X(cuMemsetD32Async, cuMemsetD32Async, CUresult, CUdeviceptr, unsigned, size_t, CUstream)     \
  X(cuModuleLoadDataEx, cuModuleLoadDataEx, CUresult, CUmodule*, const void*, unsigned,        \
    CUjit_option*, void**)                                                                     \
  X(cuModuleUnload, cuModuleUnload, CUresult, CUmodule)                                        \
  X(cuModuleGetFunction, cuModuleGetFunction, CUresult, CUfunction*, CUmodule, const char*)    \
  X(cuModuleGetGlobal, cuModuleGetGlobal_v2, CUresult, CUdeviceptr*, size_t*, CUmodule,        \
    const char*)                                                                               \
  X(cuFuncSetAttribute, cuFuncSetAttribute, CUresult, CUfunction, CUfunction_attribute, int)   \
  X(cuFuncGetAttribute, cuFuncGetAttribute, CUresult, int*, CUfunction_attribute, CUfunction)  \
  X(cuLaunchKernel, cuLaunchKernel, CUresult, CUfunction, unsigned, unsigned, unsigned,        \
    unsigned, unsigned, unsigned, unsigned, CUstream, void**, void**)                          \
  X(cuLaunchKernelEx, cuLaunchKernelEx, CUresult, const CUlaunchConfig*, CUfunction, void**,   \
    void**)                                                                                    \
  X(cuOccupancyMaxActiveBlocksPerMultiprocessor, cuOccupancyMaxActiveBlocksPerMultiprocessor,  \
    CUresult, int*, CUfunction, int, size_t)                                                   \
  X(cuStreamCreate, cuStreamCreate, CUresult, CUstream*, unsigned)                             \
  X(cuStreamDestroy, cuStreamDestroy_v2, CUresult, CUstream)                                   \
  X(cuStreamSynchronize, cuStreamSynchronize, CUresult, CUstream)                              \
  X(cuStreamBeginCapture, cuStreamBeginCapture_v2, CUresult, CUstream, CUstreamCaptureMode)    \
  X(cuStreamEndCapture, cuStreamEndCapture, CUresult, CUstream, CUgraph*)                      \
  X(cuGraphInstantiateWithFlags, cuGraphInstantiateWithFlags, CUresult, CUgraphExec*, CUgraph, \
    unsigned long long)                                                                        \
  X(cuGraphLaunch, cuGraphLaunch, CUresult, CUgraphExec, CUstream)                             \
  X(cuGraphExecDestroy, cuGraphExecDestroy, CUresult, CUgraphExec)                             \
  X(cuGraphDestroy, cuGraphDestroy, CUresult, CUgraph)                                         \
  X(cuGraphGetNodes, cuGraphGetNodes, CUresult, CUgraph, CUgraphNode*, size_t*)                \
  X(cuEventCreate, cuEventCreate, CUresult, CUevent*, unsigned)                                \
  X(cuEventDestroy, cuEventDestroy_v2, CUresult, CUevent)                                      \
  X(cuEventRecord, cuEventRecord, CUresult, CUevent, CUstream)                                 \
  X(cuEventSynchronize, cuEventSynchronize, CUresult, CUevent)                                 \
  X(cuEventElapsedTime, cuEventElapsedTime_v2, CUresult, float*, CUevent, CUevent)
// clang-format on
