// The CPU executor of Brick IR: runs a verified graph of one step (one decode token, or up
// to T prompt tokens of a T-token graph) brick by brick with the reference bricks, so that
// every pass and fusion can be checked against the unoptimized graph, against Qwen2Model
// on the same file, and T-token steps against T one-token steps.
//
// With Kernels::kReference, numerics are those of the f32 reference, by choice: a
// q8_1-typed value (the quantize-activations pass) is a hint for the GPU and is kept in f32
// here, and the KV cache, declared f16, is held in f32 as Qwen2Model holds it. A composite
// brick runs exactly the functions of its parts in their order, so the default pipeline
// changes no bit of the logits. Kernels::kInt8 (the fast CPU engine) runs the matrix
// bricks as llama.cpp's CPU backend does: activations rounded to Q8_0/Q8_K blocks, int8
// SIMD dot products (matmul_q8.h), the KV cache in f16; everything else stays f32. Either
// cache keeps each kv head's positions together, which attention streams faster than the
// IR's rows of positions.
// In the decode graph each brick result gets its own buffer (readable after the step); a
// T-token graph's results share buffers where their lives do not overlap, so there a value
// is readable until a later brick's result takes its buffer. plan-memory's arena (sized in
// the GPU's types) and the budgets are for the GPU and are ignored here.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "frontend/gguf/reader.h"
#include "ir/graph.h"
#include "runtime/cpu/bricks.h"
#include "runtime/cpu/forward.h"
#include "runtime/cpu/huge_pages.h"
#include "runtime/cpu/matmul_q8.h"
#include "runtime/cpu/resident_weights.h"
#include "runtime/brick_stepper.h"
#include "runtime/cpu/thread_pool.h"
#include "runtime/decode_graph.h"
#include "runtime/session.h"

namespace brickc::cpu {

// The kernels of the matrix bricks.
enum class Kernels { kReference, kInt8 };

// How an engine holds a cache declared `declared`: an f16 cache is f32 in the reference
// engine and f16 in the int8 engine, as llama.cpp keeps it, which halves what attention
// streams at a long context; a q8_0 cache is q8_0 blocks in both, its rounding being what
// the cache type asks for.
DType held_cache_type(Kernels kernels, DType declared);

class GraphExecutor final : public runtime::BrickStepper {
 public:
  // Verifies `graph` and binds each weight to the tensor of `file` it names, checking
  // type and shape; `file` must outlive the executor. The graph's inputs must be %tok and
  // %pos (i32[T]), as the importer declares them, and it must have one f32 output (the
  // logits). Buffers, including the zeroed KV cache state, are allocated here, never per
  // step. With `share_cache`, the KV cache states are that executor's (bound by name), so
  // that a prefill graph and a decode graph of one model fill and read one cache. kInt8
  // runs on simd::best_isa() (the widest SIMD set, or BRICKC_SIMD's) and reads its matrices
  // from a ResidentWeights copy (share_cache's, if it has one).
  GraphExecutor(const gguf::File& file, ir::Graph graph, int n_threads = 1,
                const GraphExecutor* share_cache = nullptr,
                Kernels kernels = Kernels::kReference);

  const ir::Graph& graph() const override { return graph_; }
  // KV cache positions: the last dimension of the state values.
  int64_t max_ctx() const { return max_ctx_; }

  // One step of n = tokens.size() tokens (1 <= n <= the graph's n_tokens) at positions
  // pos .. pos + n - 1 (pos + n <= max_ctx()); positions before pos must have been run since
  // the cache was last cleared. The graph's rows past n are left alone.
  using BrickStepper::step;
  void step(std::span<const int32_t> tokens, int64_t pos) override;
  // One step of a batch (a graph imported with n_seq sequences): token t at position pos[t]
  // of sequence seq[t]; each token's attention reads positions 0..pos[t] of its own
  // sequence, which earlier steps or this step's appends must have filled.
  void step_rows(std::span<const int32_t> tokens, std::span<const int32_t> pos,
                 std::span<const int32_t> seq);
  int64_t n_seq() const { return n_seq_; }
  // Zeroes the KV cache.
  void clear_cache();
  // Fills every brick result with NaN, so that a test sees any value a step reads before
  // it writes it. The KV cache is left alone.
  void poison();

  // The logits of the last token of the last step.
  std::span<const float> logits() const;
  // The greedy token of the last step's last token, from the graph's argmax brick, where the
  // graph has one over the last token's logits alone (nullopt otherwise).
  std::optional<int32_t> argmax() const;
  // The logits of every token of the last step (n rows of n_vocab), for a graph with all
  // logits; the last token's alone otherwise.
  std::span<const float> logits_rows() const;
  // A brick result after the last step (of a T-token graph: while its buffer is not taken
  // by a later result): an f32 or q8_1 value (held in f32), or an i32 one.
  std::span<const float> f32(ir::ValueId v) const;
  int32_t i32(ir::ValueId v) const;

  // runtime::BrickStepper: brick by brick, for checking another backend against this one
  // (or this one against another executor, for the CPU's --verify).
  using BrickStepper::set_step;
  void set_step(std::span<const int32_t> tokens, int64_t pos) override;
  void run_brick(size_t i) override;
  std::vector<float> read(ir::ValueId v, int64_t offset, int64_t count) override;
  void write(ir::ValueId v, int64_t offset, std::span<const float> values) override;
  Rounding rounding() const override {
    return kernels_ == Kernels::kInt8 ? Rounding::kInBrick : Rounding::kNone;
  }

  // Makes brick i a wrong kernel (for showing that --verify catches one): after it runs,
  // its first result is corrupted as codegen/ptx/kernels/plant_fault.cuh does on the GPU.
  void plant_fault(size_t i);

  // Wall time of each brick in the last step, in µs, indexed like graph().bricks():
  // steady_clock around each brick, for per-brick CPU profiles.
  const std::vector<double>& brick_us() const { return brick_us_; }

 private:
  // A KV cache state, possibly shared, on huge pages (decode reads all of it every step),
  // held as held_cache_type says. One vector is allocated.
  struct Cache {
    DType type = DType::F32;  // how the values are held
    size_t n = 0;             // values
    std::vector<float, HugePageAllocator<float>> f32;
    std::vector<uint16_t, HugePageAllocator<uint16_t>> f16;
    std::vector<uint8_t, HugePageAllocator<uint8_t>> q8;
    Cache(DType held, size_t values);
    float get(size_t e) const;
    // Value e set to x; in a q8_0 cache, x joins its block's other values, requantized.
    void set(size_t e, float x);
    // A q8_0 cache's values e .. e + 31 (e a multiple of 32) set to x[0 .. 31]: the block
    // quantized once.
    void set_block(size_t e, const float* x);
    void clear();
  };
  struct Slot {
    std::vector<float> f;    // f32 / q8_1 activations, f32 weights
    std::vector<int32_t> i;  // i32 values
    Matrix m;                // weight matrices, read from the file's mapping
    std::shared_ptr<Cache> cache;
    std::span<float> floats() { return cache ? std::span<float>(cache->f32) : std::span<float>(f); }
    std::span<const float> floats() const {
      return cache ? std::span<const float>(cache->f32) : std::span<const float>(f);
    }
  };
  void bind_weight(const gguf::File& file, const ir::Value& v, Slot& s);
  void run(const ir::Brick& b);
  void run_bricks();  // every brick in order: a step, once its inputs are set
  void corrupt(const ir::Brick& b);
  Slot& slot(ir::ValueId v) { return slots_[alias_[v.index]]; }
  const Slot& slot(ir::ValueId v) const { return slots_[alias_[v.index]]; }
  float* out(ir::ValueId v) { return slot(v).floats().data(); }
  const float* in(ir::ValueId v) const { return slot(v).floats().data(); }
  // Elements per token row.
  int64_t len(ir::ValueId v) const { return graph_.type(v).shape.ne0(); }
  // A KV cache holds each sequence's kv heads one after the other, each head's positions
  // together ([seq][kv head][position][head_dim], KvView): the offset of one head_dim run.
  // The IR's order ([seq][position][kv head][head_dim]) is what read() and write() see.
  int64_t cache_at(ir::ValueId cache, int64_t seq, int64_t head, int64_t pos) const;
  // The element of `cache` at IR (logical) index e.
  int64_t cache_element(ir::ValueId cache, int64_t e) const;
  // Writes the rows k and v (all kv heads) at `pos` of sequence `seq`'s caches.
  void append_kv(const float* k, const float* v, int64_t pos, int64_t seq, ir::ValueId kc,
                 ir::ValueId vc);
  // One layer's cache of sequence `seq` as attention reads it.
  KvView kv_view(ir::ValueId kc, ir::ValueId vc, int64_t seq) const;
  // The products of one brick that share the input x (n token rows).
  void matmuls(std::initializer_list<MatmulPart> parts, const float* x, int64_t n);

  ir::Graph graph_;
  ThreadPool pool_;
  Kernels kernels_;
  std::shared_ptr<ResidentWeights> resident_;  // kInt8's matrices
  simd::AttentionKernels attention_kernels_;   // kInt8's
  std::vector<Slot> slots_;
  // Value index -> index of the slot holding it: a cache updated in place by kv_append
  // is the state's slot under a new name.
  std::vector<uint32_t> alias_;
  std::vector<ir::ValueId> states_;
  ir::ValueId tok_, pos_, logits_;
  std::optional<ir::ValueId> argmax_;  // an i32 output over the last token's logits
  std::optional<ir::ValueId> seq_;  // %seq, in a batch graph
  int64_t max_ctx_ = 0;
  int64_t n_seq_ = 1;
  int64_t n_ = 1;  // tokens in the current step
  std::vector<float> scratch_a_, scratch_b_, scratch_c_;  // intermediates inside composites
  std::vector<double> brick_us_;
  std::optional<size_t> fault_;
};

// The executor as the generation loop's Decoder: imports the file's decode step, optimizes
// it with a pass list ("a,b,c"; nullopt: the default pipeline) and decodes with it; prompts
// of more than one token run through a second, T-token graph (T = n_ubatch) in chunks of
// up to T, sharing the decode graph's KV cache. What `brickc run --engine graph` and the
// fusion tests use.
struct GraphModelOptions {
  int n_threads = 1;
  int64_t n_ctx = 4096;  // KV cache positions; at most the model's context_length
  int64_t n_ubatch = 512;  // prompt tokens per T-token step; 1: token by token
  std::optional<std::string> passes;
  Kernels kernels = Kernels::kReference;
  runtime::CacheTypes cache;  // how the KV cache holds K and V
  bool poison = false;  // GraphExecutor::poison() before every step (tests)
  // A brick (ir::Graph::find_brick's spec) made a wrong kernel in every graph the model
  // runs (GraphExecutor::plant_fault), to show that --verify names it.
  std::optional<std::string> plant_fault;
};

class GraphModel : public runtime::SteppedDecoder {
 public:
  // `each` sees the logits of every evaluated position, as with Qwen2Decoder.
  GraphModel(const gguf::File& file, const GraphModelOptions& opt, Qwen2Model::LogitsFn each = {});

  GraphExecutor& executor() { return exec_; }
  int64_t n_ctx() const override { return exec_.max_ctx(); }
  int64_t n_past() const override { return n_past_; }
  void prefill(std::span<const int32_t> tokens) override;
  void decode(int32_t token) override { prefill({&token, 1}); }
  void reset() override;
  void rewind(int64_t n) override {
    runtime::check_rewind(n, n_past_);
    n_past_ = n;
  }
  std::span<const float> logits() override { return last_->logits(); }
  // The graph's argmax brick ran with the step (in parallel); scanning the logits again
  // here was a serial part of every greedy decode step.
  int32_t argmax() override {
    const std::optional<int32_t> a = last_->argmax();
    return a ? *a : Decoder::argmax();
  }
  const ir::Graph* profiled_graph() const override { return &exec_.graph(); }
  std::vector<double> last_brick_us() override { return exec_.brick_us(); }

 private:
  GraphExecutor& batch();

  const gguf::File& file_;
  GraphModelOptions opt_;
  GraphExecutor exec_;
  std::unique_ptr<GraphExecutor> batch_;  // the T-token graph, made at the first prompt
  const GraphExecutor* last_ = &exec_;    // the executor whose logits are current
  int64_t n_vocab_;
  Qwen2Model::LogitsFn each_;
  int64_t n_past_ = 0;
};

}  // namespace brickc::cpu
