// The persistent decode kernel: one launch per token. Every block walks the step's task
// list, one task per launch of the per-brick plan in plan order. A task's virtual grid
// (nx × ny blocks, as the kernel would be launched alone) is dealt round-robin over the
// physical blocks from `first` on; a block runs its virtual blocks through the same kernel
// templates as TaskBlocks, then counts itself done in the task's counter (only blocks
// that have a virtual block count: `arrivals` of them). Counters are monotonic: after
// `epoch` steps a finished task's counter holds epoch × arrivals, so nothing is reset
// between steps. A task's producers are earlier tasks and every block
// walks the list in order, so the lowest unfinished task can always run: no deadlock while
// every block is resident (the runtime launches it cooperatively).
#pragma once
#include "common.cuh"

constexpr int kMaxDeps = 5;

// One task: the launch's argument slots, which kernel template runs it (the generated
// dispatch), its virtual grid, the physical block that takes its virtual block 0, and
// the tasks whose results it reads with the blocks that count each of them done. 256
// bytes; runtime/cuda/executor.cpp fills the table.
struct MegaTask {
  KArgs args;
  int kernel, nx, ny, first, n_deps, pad_;
  int deps[kMaxDeps];
  u32 dep_arrivals[kMaxDeps];
};
static_assert(sizeof(MegaTask) == 256, "MegaTask layout");

// threadIdx.x, read anew for every virtual block (TaskBlock::thread). The compiler takes
// threadIdx.x for a constant of the kernel and hoists all that the templates compute from
// it (lanes, warps, every task's shared-memory offsets) out of the task loop, to be held
// in registers through every task (ptxas spilled them); a volatile read stays in the loop,
// and what derives from it in its task. The assumption is the range that
// __launch_bounds__(kThreads) gives threadIdx.x.
__device__ __forceinline__ unsigned task_thread() {
  unsigned t;
  asm volatile("mov.u32 %0, %%tid.x;" : "=r"(t));
  __builtin_assume(t < kThreads);
  return t;
}

// A block of a task. Weights need no waiting (start_dependents: nothing to launch); inputs
// wait for every producer task's counter to reach epoch × its arrivals. A wait longer than
// `timeout` ns records the fault in the step struct and ends the whole kernel: every block
// that waits sees the fault and exits, so a missing producer is an error, not a hang.
struct TaskBlock {
  static constexpr bool kCoResident = false;
  int x, y, nx, ny;
  const MegaTask* task;
  const u32* counters;
  Step* step;
  u32 epoch;
  u64 timeout;
  int index;
  u32 entry;  // profiling: when the virtual block began (entry_stamp)
  unsigned thread;  // task_thread()
  __device__ __forceinline__ unsigned thread_now() const { return task_thread(); }
  __device__ __forceinline__ void start_dependents() const {}
  __device__ __forceinline__ void begin() const { wait_for_inputs(); }
  __device__ void wait_for_inputs() const {
    __shared__ int give_up;
    if (thread == 0) {
      int bad = 0;
      const u64 t0 = globaltimer();
      for (int d = 0; d < task->n_deps && !bad; ++d) {
        const u32* c = counters + task->deps[d];
        const u32 target = epoch * task->dep_arrivals[d];
        for (u32 polls = 1;; ++polls) {
          const u32 seen = ld_acquire(c);
          if (static_cast<int>(seen - target) >= 0) break;  // wraps safely past 2^32
          if (*reinterpret_cast<volatile u32*>(&step->fault)) {  // another block gave up
            bad = 1;
            break;
          }
          if (polls % 64 == 0 && globaltimer() - t0 > timeout) {
            if (atomicCAS(&step->fault, 0u, 1u) == 0u) {
              step->fault_task = static_cast<u32>(index);
              step->fault_block = blockIdx.x;
              step->fault_sm = smid();
              step->fault_dep = static_cast<u32>(task->deps[d]);
              step->fault_seen = seen;
            }
            bad = 1;
            break;
          }
        }
      }
      give_up = bad;
    }
    __syncthreads();
    if (give_up) asm volatile("exit;");
  }
};

// Slots of the megakernel's own argument: 0 the task table, 1 its length, 2 the counters
// (u32 per task, zeroed with epoch 0), 3 the step struct, 4 the wait bound in ns.
// `run(kernel, args, blk)` runs one virtual block of a kernel template (generated switch).
template <class Run>
__device__ void megakernel(const KArgs& m, const Run& run) {
  const MegaTask* tasks = reinterpret_cast<const MegaTask*>(m.p[0]);
  const int n = static_cast<int>(m.p[1]);
  u32* counters = reinterpret_cast<u32*>(m.p[2]);
  Step* step = reinterpret_cast<Step*>(m.p[3]);
  const unsigned blocks = gridDim.x;
  const u32 epoch = step->epoch;
  for (int i = 0; i < n; ++i) {
    const MegaTask& t = tasks[i];
    const int nv = t.nx * t.ny;
    const int v0 = static_cast<int>((blockIdx.x + blocks - static_cast<unsigned>(t.first)) % blocks);
    if (v0 >= nv) continue;  // no part in this task: on to the next one's weights
    // The bound is read again after each virtual block rather than kept in a register
    // across it: the templates' code needs every one of the kernel's 128 (ptxas spilled it).
    for (int v = v0; v < t.nx * t.ny; v += static_cast<int>(blocks)) {
      const TaskBlock blk{v % t.nx, v / t.nx, t.nx, t.ny, &t, counters, step, epoch, m.p[4], i, entry_stamp(),
                          task_thread()};
      run(t.kernel, t.args, blk);
      __syncthreads();  // the block's writes are done; shared memory is free for the next
    }
    // Release after the block barrier orders every thread's writes before the count.
    if (task_thread() == 0) red_release_add(counters + i, 1u);
  }
}
