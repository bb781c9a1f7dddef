// The CUDA executor of Brick IR: binds a lowered step (codegen/ptx/lower.h) to device
// buffers, uploads the weights once (rows padded to 16 bytes), keeps the KV cache (f16 or
// q8_0), and runs a step as one CUDA graph replay whose only inputs are the step struct
// (and, for a T-token graph, the token ids). Per-brick eager runs and value access serve
// the GPU tests and --verify.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codegen/ptx/lower.h"
#include "codegen/ptx/megakernel.h"
#include "frontend/gguf/reader.h"
#include "ir/graph.h"
#include "runtime/cuda/context.h"
#include "runtime/cuda/memory.h"
#include "runtime/cuda/module.h"
#include "runtime/brick_stepper.h"
#include "runtime/cuda/stream.h"
#include "runtime/cuda/trace_span.h"

namespace brickc::cuda {

class Executor;

struct ExecutorOptions {
  ptx::LowerOptions lower{};  // lower.trace: kernels stamp %globaltimer per block (trace_spans())
  bool use_graph = true;      // false: every step launches its kernels one by one
  // Weights and KV cache states bound (by value name) to this executor's buffers instead
  // of uploaded and allocated anew: a prefill graph beside the decode graph of one model.
  const Executor* share = nullptr;
  // A decode step runs as one persistent kernel (kernels/megakernel.cuh) instead of a graph
  // of per-brick kernels; run_brick still launches the per-brick kernels.
  bool megakernel = false;
  // Megakernel: a task that waits longer than this for its inputs stops the step with an
  // error naming it; hang_task (a launch index, for tests) waits for a task that never runs.
  double task_timeout_s = 1.0;
  std::optional<size_t> hang_task{};
};

class Executor final : public runtime::BrickStepper {
 public:
  // Verifies and lowers `graph`, compiles it (through the disk cache), allocates every
  // buffer and uploads the weights of `file`, which must outlive nothing here: weights are
  // copied. The graph's inputs must be %tok and %pos; its outputs one f32 (the logits) and
  // optionally one i32 (the argmax).
  Executor(Context& ctx, const gguf::File& file, ir::Graph graph, const ExecutorOptions& o = {});
  ~Executor();

  const ir::Graph& graph() const override { return graph_; }
  const ptx::KernelPlan& plan() const { return plan_; }
  int64_t max_ctx() const { return max_ctx_; }
  size_t device_bytes() const { return device_bytes_; }

  // Enqueues one step of n = tokens.size() tokens (1 <= n <= the graph's n_tokens) at
  // positions pos .. pos + n - 1; returns without waiting.
  using BrickStepper::step;
  void step(std::span<const int32_t> tokens, int64_t pos) override;
  // A batch graph (imported with n_seq sequences): one step of n = tokens.size() tokens,
  // token i at position pos[i] of sequence seq[i]'s cache; each attends positions
  // 0..pos[i] of its own sequence, written by earlier steps or this one. Waits for the
  // previous step, then enqueues.
  void step_rows(std::span<const int32_t> tokens, std::span<const int32_t> pos,
                 std::span<const int32_t> seq);
  int64_t n_seq() const { return n_seq_; }
  // Waits for the last step and returns its argmax (the graph's i32 output); fails if the
  // graph has none.
  int32_t argmax();
  // Waits for every enqueued step.
  void finish();
  // Blocks of the megakernel (0 without one): every one resident, on every SM.
  unsigned megakernel_blocks() const { return mega_blocks_; }
  // Waits and copies the logits (the f32 output) to the host: the last step's rows (n rows of
  // n_vocab with a graph of all logits, else the last token's row), and that last row.
  std::span<const float> logits_rows();
  std::span<const float> logits();
  // Waits and copies row `row` of the last step's logits alone (a batch step's rows that
  // sample; a graph of all logits).
  std::vector<float> logits_row(int64_t row);
  // Waits and copies every row's greedy choice of the last batch step (n ids).
  std::vector<int32_t> argmax_rows();
  bool has_argmax() const { return argmax_.index != UINT32_MAX; }

  // runtime::BrickStepper, for tests and --verify. set_step writes the step struct and
  // run_brick runs brick i's kernels now, in order; both wait. read gives q8_1 and q8_0
  // dequantized and f16 widened; write quantizes to q8_1 as the kernels do, and to q8_0 as
  // llama.cpp does. A q8_1 value is read and written whole, a q8_0 cache by whole positions.
  using BrickStepper::set_step;
  void set_step(std::span<const int32_t> tokens, int64_t pos) override;
  void run_brick(size_t i) override;
  std::vector<float> read(ir::ValueId v, int64_t offset, int64_t count) override;
  void write(ir::ValueId v, int64_t offset, std::span<const float> values) override;
  Rounding rounding() const override { return Rounding::kStoredQ8_1; }
  bool fused_step() const override { return plan_.megakernel.has_value(); }
  // Fills every brick result with NaN bytes (0xFF); the KV cache is left alone.
  void poison();
  void clear_cache();
  // Per launch of the last step, with `trace` on: its blocks' span, how much of it kept
  // the device's SMs busy, and its blocks' lead, prologue and tail (trace_span.h).
  std::vector<LaunchSpan> trace_spans();
  // The same step's stamps as the kernels wrote them: per launch, kTraceSlots per block.
  std::vector<std::vector<uint64_t>> trace_stamps();

 private:
  void enqueue_all();
  // The step whose inputs are written: the captured graph or every launch; logits unread.
  void launch_step();
  // Stages the step struct (and a T-token graph's token ids) and enqueues their upload.
  void write_inputs(std::span<const int32_t> tokens, int64_t pos);
  void enqueue(size_t launch, bool alone);
  void setup_megakernel();
  // Waits for the stream, with `key` (or a megakernel) copying the step struct back first,
  // and fails if a megakernel task gave up waiting.
  void sync_step(std::string_view what, bool key);

  Context& ctx_;
  ir::Graph graph_;
  ptx::KernelPlan plan_;
  ExecutorOptions opt_;
  int64_t max_ctx_ = 0;
  size_t device_bytes_ = 0;
  ir::ValueId logits_, argmax_;
  std::vector<DeviceBuffer> values_;   // by value index; empty for inputs and aliases
  std::vector<DevicePtr> ptr_;         // by value index: a cache update aliases its cache
  std::vector<DeviceBuffer> scratch_;
  std::vector<DeviceBuffer> shared_;   // T-token graphs: activation buffers of the memory plan
  DeviceBuffer step_;                  // Step struct, with the argmax key
  DeviceBuffer trace_;
  std::vector<size_t> trace_offset_;   // per launch, in u64 slots
  PinnedBuffer step_host_;             // one Step per position: enqueued copies never race
  PinnedBuffer tokens_host_;           // T-token graphs: token ids by position, likewise
  ir::ValueId tok_;                    // T-token graphs: the %tok buffer
  ir::ValueId pos_, seq_;              // batch graphs: the %pos and %seq buffers
  int64_t n_seq_ = 1;
  int64_t n_ = 1;                      // tokens in the last step
  PinnedBuffer step_back_;             // the last step struct read back
  uint32_t epoch_ = 0;                 // megakernel steps since its counters were zeroed
  unsigned mega_blocks_ = 0;
  std::vector<ptx::TaskPlacement> place_;  // per task, on mega_blocks_
  Function mega_fn_{};
  DeviceBuffer tasks_;                 // the megakernel's task table
  DeviceBuffer counters_;              // per task, and one no task bumps (hang_task)
  std::vector<uint64_t> mega_args_;
  Module module_;
  Stream stream_;
  Graph cuda_graph_;
  std::vector<Function> functions_;    // per kernel
  std::vector<unsigned> grid_x_;       // per launch
  std::vector<std::vector<uint64_t>> args_;  // per launch, resolved slots
  std::vector<float> logits_host_;
};

}  // namespace brickc::cuda
