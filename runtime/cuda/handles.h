// Plain names for CUDA Driver API handles, for headers that must not include cuda.h.
// The structs are declared exactly as cuda.h names them, so these are the same types.
#pragma once

struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
struct CUevent_st;
struct CUgraph_st;
struct CUgraphExec_st;

namespace brickc::cuda {

using DevicePtr = unsigned long long;  // CUdeviceptr on every 64-bit platform
using ContextHandle = CUctx_st*;
using ModuleHandle = CUmod_st*;
using Function = CUfunc_st*;
using StreamHandle = CUstream_st*;
using EventHandle = CUevent_st*;
using GraphHandle = CUgraph_st*;
using GraphExecHandle = CUgraphExec_st*;

}  // namespace brickc::cuda
