// Lowers an optimized decode-step graph to CUDA: one generated source that instantiates
// the kernel templates (codegen/ptx/kernels) with the graph's shapes and quant formats,
// and the launch list that runs the step, with arguments still naming IR values so that
// the runtime binds them to its buffers. No CUDA calls here: the plan is data, printable
// by `brickc compile --emit=cuda` and compiled by NVRTC.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace brickc::ptx {

// One 8-byte kernel argument slot (kernels/common.cuh: KArgs).
struct Arg {
  enum class Kind {
    kNull,     // 0
    kValue,    // the device address of an IR value's buffer
    kInt,      // an integer
    kF32,      // an f32, as its bits
    kStep,     // the step struct (token, position)
    kScratch,  // a runtime-owned scratch buffer (index into KernelPlan::scratch)
    kTrace,    // this launch's trace slots, or null when profiling is off
  };
  Kind kind = Kind::kNull;
  ir::ValueId value;
  int64_t i = 0;
  float f = 0.0f;
};

struct Scratch {
  uint64_t bytes = 0;
  std::string what;   // for messages: "attention partials of %att.3"
  bool zeroed = false;  // zero once at allocation (counters that kernels reset themselves)
};

struct Launch {
  size_t brick = 0;       // index in graph.bricks()
  size_t kernel = 0;      // index in KernelPlan::kernels
  std::array<unsigned, 2> grid{1, 1};
  // > 0: a grid-stride kernel; the runtime launches min(work_blocks, blocks that fit
  // on the device at once) blocks in x instead of grid[0].
  int64_t work_blocks = 0;
  unsigned block = 256;
  unsigned smem = 0;      // dynamic shared memory bytes its blocks use
  // Above smem: what a launch as its own grid asks for, more than half an SM's, so that no
  // two of its blocks share an SM (a megakernel task's blocks have smem).
  unsigned smem_alone = 0;
  unsigned launch_smem() const { return smem > smem_alone ? smem : smem_alone; }
  std::vector<Arg> args;
  std::vector<ir::ValueId> zero_before;  // values to clear before the launch when run alone (argmax keys)
};

struct Kernel {
  std::string name;      // extern "C" entry point
  std::string template_call;  // e.g. matvec<896, kInNormF32, kStore, 3, FmtQ5_0, ...>
  unsigned threads = 256;     // its block size (__launch_bounds__)
  unsigned min_blocks = 0;    // blocks per SM its registers must allow (0: no bound)
};

// The persistent decode kernel (LowerOptions::megakernel; kernels/megakernel.cuh): its
// entry point runs every launch of the plan as a task, in order.
struct Megakernel {
  std::string name;
  unsigned min_blocks_per_sm = 0;      // its __launch_bounds__
  unsigned smem = 0;                   // dynamic shared memory: the largest launch's
  std::vector<std::vector<size_t>> deps;  // per launch: the launches whose results it reads
};

struct KernelPlan {
  std::string source;  // CUDA C++ for NVRTC: the includes and one wrapper per kernel
  std::vector<Kernel> kernels;
  std::vector<Launch> launches;
  std::vector<Scratch> scratch;
  std::optional<Megakernel> megakernel;
  // A batch step (several sequences): the scratch holding each row's greedy choice
  // (int[T], kernels/argmax.cuh: argmax_rows), so that the host reads T ids, not T rows.
  std::optional<size_t> row_argmax;
};

struct LowerOptions {
  unsigned sms = 132;  // the device's SMs: decode attention's KV splits fill them
  // The device's shared memory per SM (H100/H200: 228 KB): how many blocks of a matvec-family
  // kernel fit on an SM decides its weight ring's size (lower.cpp: ring_bytes).
  unsigned smem_per_sm = 233472;
  // Kernels stamp %globaltimer into their trace slots (kernels/common.cuh: BRICKC_TRACE);
  // off, the hooks are compiled out.
  bool trace = false;
  // Brick index whose launches end with kernels/plant_fault.cuh's wrong kernel (tests of
  // --verify); none when unset.
  std::optional<size_t> plant_fault;
  // Also emit the megakernel (decode steps only): every launch becomes a task of one
  // persistent kernel (codegen/ptx/megakernel.h).
  bool megakernel = false;
};

// Fails naming the brick when a kind, type or shape has no kernel (e.g. bf16 weights).
KernelPlan lower(const ir::Graph& g, const LowerOptions& o = {});

// Bytes between rows of a weight matrix on the GPU: the GGUF row padded to 16 bytes, so
// that every row starts where a 16-byte load may read it.
uint64_t gpu_row_stride(DType t, int64_t ne0);

// Device buffer bytes of a value: q8_1 is int8[n] then (d, s) f32 pairs per 32; the argmax
// result is one 64-bit key; a KV cache (state) is its positions (gpu_cache_position_bytes).
uint64_t gpu_value_bytes(const ir::Graph& g, ir::ValueId v);

// Bytes of one position of a KV cache on the GPU, whose `e` values are its n_kv_heads x
// head_dim: f16 values; or q8_0's int8 values, then one f16 scale per 32 of them, padded to
// 16 bytes, so that a position starts where a 16-byte load may read it and a range of
// positions is one contiguous copy (kernels/kv_cache.cuh).
uint64_t gpu_cache_position_bytes(DType t, int64_t e);

}  // namespace brickc::ptx
