// What every brick kernel shares: fixed-width types, the per-token step struct, inline PTX
// for what the compiler would not emit on its own (dp4a, 16-byte cp.async copies,
// %globaltimer, programmatic-dependent-launch waits), warp reductions and the trace hook.
#pragma once

typedef unsigned char u8;
typedef signed char i8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

// The device-side step struct: written by the host before each replay of the captured
// decode graph, read by every kernel that depends on the token or the position.
struct Step {
  int token;
  int pos;         // position of the step's first token
  u64 argmax_key;  // zeroed by the host with each step; argmax folds into it
  int n_tokens;    // tokens in this step (T-token prefill graphs run 1..T of them); 1 in decode
  u32 epoch;       // megakernel: its steps since the task counters were zeroed
  // megakernel: nonzero when a task waited past the bound; which task, on which block
  // and SM, for which producer task's counter, and the count it saw (megakernel.cuh).
  u32 fault, fault_task, fault_block, fault_sm, fault_dep, fault_seen;
};

// Every kernel takes one argument: 8-byte slots (pointers, integers, f32 bits), laid out
// per kernel as its template documents and as codegen/ptx/lower.cpp fills them.
constexpr int kArgSlots = 24;
struct KArgs {
  u64 p[kArgSlots];
};

constexpr int kWarp = 32;
#define BRICKC_NEG_INF __int_as_float(0xff800000)
constexpr int kThreads = 256;  // the block size of every matvec-family and vector kernel
constexpr int kWarps = kThreads / kWarp;

__device__ __forceinline__ float h2f(u16 h) {
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
  return f;
}

__device__ __forceinline__ u16 f2h(float f) {
  u16 h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
  return h;
}

__device__ __forceinline__ int dp4a(int a, int b, int c) {
  int d;
  asm("dp4a.s32.s32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
  return d;
}

// dp4a with unsigned bytes in a (weights 0..255 as stored) and signed bytes in b.
__device__ __forceinline__ int dp4a_us(u32 a, int b, int c) {
  int d;
  asm("dp4a.u32.s32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
  return d;
}

// The 32-bit shared-window address of a generic pointer into shared memory.
__device__ __forceinline__ u32 smem_addr(const void* p) {
  u32 r;
  asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(r) : "l"(p));
  return r;
}

// 16 bytes global -> shared, bypassing L1 (.cg: tiles are reused from shared memory, not
// L1). With valid false the 16 bytes are zero-filled and nothing is read: rows past the
// tokens of the step or past the matrix never touch memory they do not own.
__device__ __forceinline__ void cp_async16(u32 dst, const void* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(dst), "l"(src),
               "r"(valid ? 16 : 0)
               : "memory");
}
// An arrival counter's add: release (this thread's earlier writes, and those a barrier
// before it ordered, are visible to whoever sees the new count) and acquire (what the
// earlier arrivals released is visible here, and to the threads a barrier after it
// orders). Two membar.gl around a relaxed atomicAdd did the same at the cost of two full
// fences on the path of the kernel's last block.
__device__ __forceinline__ u32 arrive_acq_rel(u32* counter, u32 n = 1) {
  u32 old;
  asm volatile("atom.add.acq_rel.gpu.u32 %0, [%1], %2;" : "=r"(old) : "l"(counter), "r"(n) : "memory");
  return old;
}

// An arrival that no one in this thread waits on: the release alone.
__device__ __forceinline__ void red_release_add(u32* p, u32 v) {
  asm volatile("red.release.gpu.global.add.u32 [%0], %1;" ::"l"(p), "r"(v) : "memory");
}

__device__ __forceinline__ u32 ld_acquire(const u32* p) {
  u32 v;
  asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
  return v;
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }
// Waits until at most N of this thread's committed groups are still in flight.
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory");
}

__device__ __forceinline__ u64 globaltimer() {
  u64 t;
  asm volatile("mov.u64 %0, %globaltimer;" : "=l"(t));
  return t;
}

// Profiling (the generated source defines BRICKC_TRACE 1 when it is on): blocks stamp
// when they began, before waiting for their inputs (`entry`, taken where the block is
// made), and Trace stamps the rest (below). Off, the stamps compile to nothing.
#ifndef BRICKC_TRACE
#define BRICKC_TRACE 0
#endif
// The low 32 bits (Trace widens them against its own stamp: a block waits less than 4 s),
// so that the matrix kernels hold one register, not two, across their prologue.
__device__ __forceinline__ u32 entry_stamp() { return BRICKC_TRACE ? static_cast<u32>(globaltimer()) : 0u; }

// Where a kernel body runs. Every kernel template takes its block as `const B& blk`: a
// GridBlock when it is launched as its own grid, or a megakernel TaskBlock (megakernel.cuh)
// when it runs as a task of the persistent decode kernel. Both say which block of how many
// this is (x of nx, y of ny), which thread of it (`thread`: templates and their helpers
// take the thread's index from here, never from threadIdx.x, for the megakernel's sake:
// megakernel.cuh; `thread_now()` reads it again where it is used, for values that are
// cheaper derived anew than held in a register through a loop) and how to wait for the
// inputs.
//
// As its own grid, a kernel uses programmatic dependent launch (the runtime launches every
// kernel after the first with the programmatic-serialization attribute): it lets the next
// kernel start at once, so that its blocks are scheduled as SMs free up and prefetch their
// weights, and waits for its predecessor's writes before it touches anything but weights.
//
// kCoResident: a block may wait for the other blocks of its grid where the grid fits on the
// device at once, since then they all run together (the next kernel launches only after
// every block has called start_dependents, so it never takes the SMs the last ones need).
// A megakernel task's virtual blocks share physical blocks: one waiting for another there
// could be waiting for itself.
struct GridBlock {
  static constexpr bool kCoResident = true;
  int x, y, nx, ny;
  u32 entry;  // profiling: when the block began (entry_stamp)
  unsigned thread;
  __device__ GridBlock()
      : x(blockIdx.x), y(blockIdx.y), nx(gridDim.x), ny(gridDim.y), entry(entry_stamp()), thread(threadIdx.x) {}
  __device__ __forceinline__ unsigned thread_now() const { return threadIdx.x; }
  __device__ __forceinline__ void start_dependents() const {
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
  }
  __device__ __forceinline__ void wait_for_inputs() const {
    asm volatile("griddepcontrol.wait;" ::: "memory");
  }
  // Kernels that prefetch nothing begin so: let the next kernel launch, wait for inputs.
  __device__ __forceinline__ void begin() const {
    start_dependents();
    wait_for_inputs();
  }
};

// A u32 from a 2-byte-aligned address (quant blocks of 18, 22, 34, 210 bytes).
__device__ __forceinline__ u32 ld_u32_a2(const u8* p) {
  const u16* q = reinterpret_cast<const u16*>(p);
  return static_cast<u32>(q[0]) | (static_cast<u32>(q[1]) << 16);
}

// N consecutive u32 from a 2-byte-aligned address in shared memory: N + 1 aligned words
// funnel-shifted into place, half the loads of N ld_u32_a2. Reads up to 4 bytes past the
// last word, which must be shared memory too (matvec.cuh: the ring and the activation).
template <int N>
__device__ __forceinline__ void ld_words_a2(const u8* p, u32 (&w)[N]) {
  // Pointer arithmetic, not an integer cast, so that the compiler still sees which
  // memory p points into and loads shared words with ld.shared rather than generic loads.
  const u32 odd = static_cast<u32>(reinterpret_cast<unsigned long long>(p)) & 2u;
  const u32* base = reinterpret_cast<const u32*>(p - odd);
  const u32 shift = odd * 8u;
  u32 v[N + 1];
#pragma unroll
  for (int i = 0; i <= N; ++i) v[i] = base[i];
#pragma unroll
  for (int i = 0; i < N; ++i) w[i] = __funnelshift_r(v[i], v[i + 1], shift);
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// The warp sums of a and b, every lane getting both, in 6 shuffles instead of 10: after one
// exchange lanes 0-15 go on with a and lanes 16-31 with b. Each sum adds in warp_sum's
// order, so both are bit for bit warp_sum's.
__device__ __forceinline__ float2 warp_sum2(float a, float b, unsigned t) {
  const bool hi = (t & 16u) != 0;
  float v = (hi ? b : a) + __shfl_xor_sync(0xffffffffu, hi ? a : b, 16);
#pragma unroll
  for (int o = 8; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  const float w = __shfl_xor_sync(0xffffffffu, v, 16);
  return hi ? make_float2(w, v) : make_float2(v, w);
}

__device__ __forceinline__ int warp_sum_i(int v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the block (kThreads threads, t this one); every thread gets the result.
__device__ __forceinline__ float block_sum(float v, unsigned t) {
  __shared__ float part[kWarps];
  v = warp_sum(v);
  const int w = t / kWarp, lane = t % kWarp;
  __syncthreads();
  if (lane == 0) part[w] = v;
  __syncthreads();
  float s = 0.0f;
#pragma unroll
  for (int i = 0; i < kWarps; ++i) s += part[i];
  return s;
}

// The SM this thread runs on.
__device__ __forceinline__ u32 smid() {
  u32 s;
  asm("mov.u32 %0, %%smid;" : "=r"(s));
  return s;
}

// Profiling hook, made after the block's wait for its inputs: each block b (x-major over
// its grid, GridBlock or TaskBlock) stores kTraceSlots stamps at trace[kTraceSlots * b]:
// when it began (blk.entry), when its inputs were ready (the Trace's making), when its
// prologue was done (ready(): the matrix kernels' input vector in shared memory; the
// start where a kernel has none), its end (ns, %globaltimer) and its SM
// (runtime/cuda/trace_span.h reads them). Without BRICKC_TRACE it compiles to nothing.
constexpr int kTraceSlots = 5;
struct Trace {
#if BRICKC_TRACE
  u64* trace;
  unsigned b;
  bool lead;  // thread 0 of the block, which stamps
  // Stamps are stored as they are taken, not held: the matrix kernels have no registers to spare.
  template <class B>
  __device__ __forceinline__ Trace(u64* s, const B& blk)
      : trace(s), b(blk.y * blk.nx + blk.x), lead(blk.thread == 0) {
    if (lead) {
      const u64 t0 = globaltimer();
      slot(0) = t0 - static_cast<u32>(static_cast<u32>(t0) - blk.entry);
      slot(1) = t0;
      slot(2) = t0;
    }
  }
  __device__ __forceinline__ u64& slot(int i) const { return trace[kTraceSlots * b + i]; }
  // After a barrier that every thread of the block passes once its prologue is done.
  __device__ __forceinline__ void ready() const {
    if (lead) slot(2) = globaltimer();
  }
  __device__ __forceinline__ void end() const {
    __syncthreads();
    if (lead) {
      slot(3) = globaltimer();
      slot(4) = smid();
    }
  }
  // A block that ends without work, before waiting for its inputs, stamps an empty span
  // (start after end), which the brick's span (earliest start to latest end) ignores: its
  // early stamps would count the wait for the previous brick as this brick's time.
  __device__ __forceinline__ void skip() const {
    if (lead) {
      slot(1) = ~0ull;
      slot(3) = 0;
    }
  }
#else
  template <class B>
  __device__ __forceinline__ Trace(u64*, const B&) {}
  __device__ __forceinline__ void ready() const {}
  __device__ __forceinline__ void end() const {}
  __device__ __forceinline__ void skip() const {}
#endif
};
