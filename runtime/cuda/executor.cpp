#include "runtime/cuda/executor.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <utility>

#include "codegen/ptx/module_cache.h"
#include "frontend/quant/quant.h"
#include "ir/error.h"
#include "ir/verifier.h"
#include "passes/memory_plan.h"
#include "runtime/cuda/api.h"

namespace brickc::cuda {
namespace {

struct Step {  // kernels/common.cuh: Step
  int32_t token;
  int32_t pos;
  uint64_t argmax_key;
  int32_t n_tokens;
  uint32_t epoch;
  uint32_t fault, fault_task, fault_block, fault_sm, fault_dep, fault_seen;
};

struct MegaTask {  // kernels/megakernel.cuh: MegaTask
  uint64_t args[24];
  int32_t kernel, nx, ny, first, n_deps, pad_;
  int32_t deps[ptx::kMegakernelMaxDeps];
  uint32_t dep_arrivals[ptx::kMegakernelMaxDeps];
};
static_assert(sizeof(MegaTask) == 256, "kernels/megakernel.cuh: MegaTask is 256 bytes");

constexpr int kStaticSmemLimit = 48 * 1024;
constexpr size_t kUploadChunk = 64u << 20;  // host staging for padded weight rows

// The token an argmax key names (kernels/argmax.cuh: the low half holds ~index).
int32_t key_token(uint64_t key) { return static_cast<int32_t>(~static_cast<uint32_t>(key)); }

// Quantizes as kernels/activations.cuh quantize32 does.
void quantize_q8_1(std::span<const float> x, uint8_t* out) {
  const size_t n = x.size();
  auto* ds = reinterpret_cast<float*>(out + n);
  for (size_t b = 0; b < n / 32; ++b) {
    float amax = 0.0f;
    for (size_t i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[32 * b + i]));
    const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    int sum = 0;
    for (size_t i = 0; i < 32; ++i) {
      const int q = static_cast<int>(std::round(x[32 * b + i] * id));
      out[32 * b + i] = static_cast<uint8_t>(static_cast<int8_t>(q));
      sum += q;
    }
    ds[2 * b] = d;
    ds[2 * b + 1] = d * static_cast<float>(sum);
  }
}

// Where elements [offset, offset + count) of a value lie in its device buffer: f32 and f16
// values element by element; a q8_0 KV cache by whole positions, a position's scales being
// apart from its values (cache_q8_0_from_f32); q8_1 values and argmax keys whole. Fails on
// a range outside the value or across those bounds.
struct ByteRange {
  uint64_t at = 0, bytes = 0;
};
ByteRange device_range(const ir::Graph& g, ir::ValueId v, int64_t offset, int64_t count) {
  const ir::TensorType& t = g.type(v);
  const int64_t n = t.elem == DType::I32 ? 1 : t.shape.elements();
  if (offset < 0 || count < 0 || offset + count > n)
    fail("elements [{}, {}) are outside %{} : {}", offset, offset + count, g.value(v).name,
         ir::to_string(t));
  const auto o = static_cast<uint64_t>(offset), c = static_cast<uint64_t>(count);
  if (t.elem == DType::F32) return {4 * o, 4 * c};
  if (t.elem == DType::F16) return {2 * o, 2 * c};
  if (t.elem == DType::Q8_0) {
    if (t.shape.dims.size() < 3)
      fail("%{} : {} is not a KV cache; the host reads and writes q8_0 only in caches",
           g.value(v).name, ir::to_string(t));
    const int64_t e = t.shape.dims[0] * t.shape.dims[1];
    if (offset % e != 0 || count % e != 0)
      fail("%{} : {} is a q8_0 KV cache, read and written by whole positions of {} elements, "
           "not elements [{}, {})", g.value(v).name, ir::to_string(t), e, offset, offset + count);
    const uint64_t p = ptx::gpu_cache_position_bytes(t.elem, e);
    return {o / static_cast<uint64_t>(e) * p, c / static_cast<uint64_t>(e) * p};
  }
  if (offset != 0 || count != n)
    fail("%{} : {} is read and written whole, not elements [{}, {})", g.value(v).name,
         ir::to_string(t), offset, offset + count);
  return {0, ptx::gpu_value_bytes(g, v)};
}

// A q8_0 KV cache's positions on the GPU (ptx::gpu_cache_position_bytes): a position's e
// int8 values, then its e / 32 f16 scales, then zeros. The blocks are llama.cpp's q8_0
// (quant::quantize), each {f16 d, int8 qs[32]} split between the two parts.
void cache_q8_0_from_f32(std::span<const float> x, int64_t e, uint8_t* out) {
  const auto pe = static_cast<size_t>(e);
  const uint64_t p = ptx::gpu_cache_position_bytes(DType::Q8_0, e);
  uint8_t block[34];
  for (size_t i = 0; i < x.size(); i += 32) {
    uint8_t* at = out + i / pe * p;
    const size_t j = i % pe;
    quant::quantize(DType::Q8_0, x.data() + i, block, 32);
    std::memcpy(at + j, block + 2, 32);
    std::memcpy(at + pe + j / 32 * 2, block, 2);
  }
}

void cache_q8_0_to_f32(const uint8_t* raw, int64_t e, std::span<float> out) {
  const auto pe = static_cast<size_t>(e);
  const uint64_t p = ptx::gpu_cache_position_bytes(DType::Q8_0, e);
  for (size_t i = 0; i < out.size(); ++i) {
    const uint8_t* at = raw + i / pe * p;
    const size_t j = i % pe;
    const auto q = static_cast<float>(static_cast<int8_t>(at[j]));
    out[i] = quant::load_fp16(at + pe + j / 32 * 2) * q;
  }
}

// GPU bytes of a weight: norms and biases as f32, matrices in their GGUF blocks with each
// row padded to gpu_row_stride.
uint64_t weight_bytes(const gguf::TensorInfo& t) {
  if (t.ne.size() == 1) return static_cast<uint64_t>(t.n_elements()) * 4;
  return static_cast<uint64_t>(t.n_rows()) * ptx::gpu_row_stride(t.type, t.ne[0]);
}

// What an executor allocates, checked against the free memory before any allocation: a
// model or a KV cache that does not fit is one error naming the parts and the -c that
// shrinks the cache, not a failure part way through the upload. An executor sharing
// another's weights and cache (the T-token graph) needs only its activations and scratch.
void check_fits(const Context& ctx, const gguf::File& file, const ir::Graph& g,
                const ptx::KernelPlan& plan, const passes::MemoryPlan& mem, bool shared) {
  uint64_t weights = 0, kv = 0, ctx_len = 0, other = 0;
  for (uint32_t i = 0; i < g.value_count() && !shared; ++i) {
    const ir::Value& v = g.value(ir::ValueId{i});
    const gguf::TensorInfo* t =
        v.kind == ir::ValueKind::Weight ? file.find_tensor(v.tensor) : nullptr;
    if (t) weights += weight_bytes(*t);
    if (v.kind == ir::ValueKind::State) {
      kv += ptx::gpu_value_bytes(g, ir::ValueId{i});
      if (v.type.shape.dims.size() >= 3) ctx_len = static_cast<uint64_t>(v.type.shape.dims[2]);
    }
  }
  // Activations as the memory plan shares them (a decode step keeps each of its small
  // results apart: the plan's figure is within kilobytes of it).
  other += mem.arena_bytes;
  for (const ptx::Scratch& s : plan.scratch) other += s.bytes;
  const MemInfo m = ctx.mem_info();
  const uint64_t need = weights + kv + other;
  if (need <= m.free) return;
  if (shared)
    fail("out of GPU memory: graph @{} of {} needs {:.1f} MiB for activations and scratch "
         "({} tokens per step; a smaller -ub shrinks it), {:.1f} MiB of {:.1f} MiB are free on {}",
         g.name, file.path(), mib(need), g.n_tokens, mib(m.free), mib(m.total), ctx.info().name);
  fail("out of GPU memory: {} needs {:.1f} MiB on the GPU: weights {:.1f} MiB, KV cache {:.1f} "
       "MiB ({} positions; a smaller -c shrinks it), activations and scratch {:.1f} MiB; {:.1f} "
       "MiB of {:.1f} MiB are free on {}",
       file.path(), mib(need), mib(weights), mib(kv), ctx_len, mib(other), mib(m.free),
       mib(m.total), ctx.info().name);
}

}  // namespace

Executor::Executor(Context& ctx, const gguf::File& file, ir::Graph graph, const ExecutorOptions& o)
    : ctx_(ctx), graph_(std::move(graph)), opt_(o) {
  ir::verify_or_fail(graph_, fmt::format("graph @{} for {}", graph_.name, file.path()));
  ptx::LowerOptions lo = o.lower;
  lo.megakernel = o.megakernel;
  lo.sms = static_cast<unsigned>(ctx.info().sm_count);
  lo.smem_per_sm = static_cast<unsigned>(ctx.info().smem_per_sm);
  plan_ = ptx::lower(graph_, lo);

  ptx::CompileOptions co;
  co.arch = ctx.arch();
  const ptx::Compiled code = ptx::compile_cached(plan_.source, "brickc_" + graph_.name, co,
                                                 device_tag(ctx));
  module_ = Module::load(code.cubin.empty() ? code.ptx : code.cubin, "brickc_" + graph_.name);
  for (const ptx::Kernel& k : plan_.kernels) functions_.push_back(module_.function(k.name));
  // A T-token step's activations are T rows each: they share buffers as the memory plan
  // says (a buffer is reused once its occupant's last reader has run). A decode step's
  // are small and each keeps its own.
  const passes::MemoryPlan mem = passes::plan_memory(graph_);
  check_fits(ctx, file, graph_, plan_, mem, o.share != nullptr);

  // Values: weights uploaded, states zeroed, results allocated (cache updates alias).
  values_.resize(graph_.value_count());
  ptr_.assign(graph_.value_count(), 0);
  auto alloc = [&](ir::ValueId v, uint64_t bytes, std::string_view what) {
    values_[v.index] = DeviceBuffer(bytes, fmt::format("{} %{}", what, graph_.value(v).name));
    ptr_[v.index] = values_[v.index].ptr();
    device_bytes_ += bytes;
  };
  // A shared weight or state: the other executor's buffer of the same name and type.
  auto bind_shared = [&](ir::ValueId id) {
    const ir::Value& v = graph_.value(id);
    const auto other = o.share->graph_.find(v.name);
    if (!other || o.share->graph_.type(*other) != v.type)
      fail("graph @{}: %{} : {} has no counterpart of that type in graph @{} to share",
           graph_.name, v.name, ir::to_string(v.type), o.share->graph_.name);
    ptr_[id.index] = o.share->ptr_[other->index];
    if (v.kind == ir::ValueKind::State) max_ctx_ = v.type.shape.dims[2];
  };
  const bool batch = graph_.find("seq").has_value();  // caches [.., max_ctx, n_seq]
  for (uint32_t i = 0; i < graph_.value_count(); ++i) {
    const ir::ValueId id{i};
    const ir::Value& v = graph_.value(id);
    if (o.share && (v.kind == ir::ValueKind::Weight || v.kind == ir::ValueKind::State)) {
      bind_shared(id);
      continue;
    }
    switch (v.kind) {
      case ir::ValueKind::Input:
        if ((v.name != "tok" && v.name != "pos" && v.name != "seq") || v.type.elem != DType::I32)
          fail("graph @{}: input %{} is not a step input (%tok, %pos, %seq) the GPU provides",
               graph_.name, v.name);
        // A decode step's token and position are in the step struct; T tokens need a
        // buffer of ids, and a batch over several sequences positions and sequences too.
        if (v.name == "tok" && graph_.n_tokens > 1) {
          alloc(id, ptx::gpu_value_bytes(graph_, id), "token ids");
          tok_ = id;
        }
        if (v.name != "tok" && batch) {
          alloc(id, ptx::gpu_value_bytes(graph_, id), v.name == "pos" ? "positions" : "sequences");
          (v.name == "pos" ? pos_ : seq_) = id;
        }
        break;
      case ir::ValueKind::State: {
        const auto& d = v.type.shape.dims;
        // (The lowering has checked the head_dim its kernels take for a q8_0 cache.)
        if (d.size() != (batch ? 4u : 3u) || (v.type.elem != DType::F16 && v.type.elem != DType::Q8_0))
          fail("graph @{}: state %{} : {} is not an f16 or q8_0 KV cache [head_dim, n_kv_heads, "
               "max_ctx{}]", graph_.name, v.name, ir::to_string(v.type), batch ? ", n_seq" : "");
        n_seq_ = d.size() == 4 ? d[3] : 1;
        if (max_ctx_ != 0 && d[2] != max_ctx_)
          fail("graph @{}: state %{} has {} positions, another cache has {}", graph_.name, v.name,
               d[2], max_ctx_);
        max_ctx_ = d[2];
        alloc(id, ptx::gpu_value_bytes(graph_, id), "KV cache");
        values_[i].fill_u8(0);
        break;
      }
      case ir::ValueKind::Weight: {
        if (v.tensor.empty())
          fail("graph @{}: weight %{} is bound to no GGUF tensor", graph_.name, v.name);
        const gguf::TensorInfo& t = file.tensor(v.tensor);
        if (t.type != v.type.elem || t.ne != v.type.shape.dims)
          fail("{}: tensor {} is {}{}, but weight %{} of graph @{} declares {}", file.path(),
               t.name, name(t.type), t.shape_string(), v.name, graph_.name,
               ir::to_string(v.type));
        alloc(id, weight_bytes(t), "weights");
        if (t.ne.size() == 1) {  // norms and biases: f32 on the device
          std::vector<float> f(static_cast<size_t>(t.n_elements()));
          quant::dequantize(t.type, t.data, f.data(), t.n_elements());
          values_[i].upload(f.data(), f.size() * 4);
          break;
        }
        const uint64_t row = *row_bytes(t.type, static_cast<uint64_t>(t.ne[0])), stride = ptx::gpu_row_stride(t.type, t.ne[0]);
        const auto rows = static_cast<uint64_t>(t.n_rows());
        if (row == stride) {
          values_[i].upload(t.data, rows * row);
          break;
        }
        const uint64_t per_chunk = std::max<uint64_t>(1, kUploadChunk / stride);
        std::vector<uint8_t> staged(static_cast<size_t>(std::min(rows, per_chunk) * stride), 0);
        for (uint64_t r0 = 0; r0 < rows; r0 += per_chunk) {
          const uint64_t n = std::min(per_chunk, rows - r0);
          for (uint64_t r = 0; r < n; ++r)
            std::memcpy(staged.data() + r * stride, t.data + (r0 + r) * row, row);
          values_[i].upload(staged.data(), n * stride, r0 * stride);
        }
        break;
      }
      case ir::ValueKind::Result:
        break;
    }
  }
  if (max_ctx_ == 0) fail("graph @{}: no KV cache state is declared", graph_.name);
  step_ = DeviceBuffer(sizeof(Step), "step struct");
  device_bytes_ += sizeof(Step);
  std::vector<uint64_t> shared_bytes(mem.buffer_bytes.size(), 0);
  const bool share_results = graph_.n_tokens > 1;
  for (const ir::Brick& b : graph_.bricks())
    for (size_t r = 0; r < b.results.size(); ++r) {
      if (auto c = ir::updated_operand(b, r)) {
        ptr_[b.results[r].index] = ptr_[b.operands[*c].index];
        continue;
      }
      if (b.kind == ir::BrickKind::Argmax) {  // the key the host zeroes with every step
        ptr_[b.results[r].index] = step_.ptr() + offsetof(Step, argmax_key);
        continue;
      }
      const int buf = mem.buffer_of[b.results[r].index];
      if (share_results && buf >= 0) {
        auto& bytes = shared_bytes[static_cast<size_t>(buf)];
        bytes = std::max(bytes, ptx::gpu_value_bytes(graph_, b.results[r]));
        continue;
      }
      alloc(b.results[r], ptx::gpu_value_bytes(graph_, b.results[r]), "result");
    }
  if (share_results) {
    for (size_t i = 0; i < shared_bytes.size(); ++i) {
      if (!shared_bytes[i]) continue;
      shared_.emplace_back(shared_bytes[i], fmt::format("activation buffer {} of {}", i,
                                                        mem.buffer_bytes.size()));
      device_bytes_ += shared_bytes[i];
    }
    std::vector<DevicePtr> at(shared_bytes.size(), 0);
    for (size_t i = 0, j = 0; i < shared_bytes.size(); ++i)
      if (shared_bytes[i]) at[i] = shared_[j++].ptr();
    for (const ir::Brick& b : graph_.bricks())
      for (ir::ValueId v : b.results)
        if (!ptr_[v.index] && mem.buffer_of[v.index] >= 0)
          ptr_[v.index] = at[static_cast<size_t>(mem.buffer_of[v.index])];
  }
  for (ir::ValueId v : graph_.outputs) {
    const DType t = graph_.type(v).elem;
    ir::ValueId& slot = t == DType::F32 ? logits_ : argmax_;
    if (t != DType::F32 && t != DType::I32)
      fail("graph @{}: output %{} is {}; the GPU returns f32 logits and an i32 argmax",
           graph_.name, graph_.value(v).name, name(t));
    if (slot.index != UINT32_MAX)
      fail("graph @{}: two {} outputs", graph_.name, name(t));
    slot = v;
  }
  if (logits_.index == UINT32_MAX) fail("graph @{}: no f32 output (the logits)", graph_.name);
  for (const ptx::Scratch& s : plan_.scratch) {
    scratch_.emplace_back(s.bytes, s.what);
    device_bytes_ += s.bytes;
    if (s.zeroed) scratch_.back().fill_u8(0);
  }
  step_host_ = PinnedBuffer(static_cast<size_t>(max_ctx_) * sizeof(Step), "step structs");
  if (graph_.n_tokens > 1)
    tokens_host_ = PinnedBuffer(static_cast<size_t>(std::max(max_ctx_, 3 * graph_.n_tokens)) * 4,
                                "token ids");
  step_back_ = PinnedBuffer(sizeof(Step), "step struct read back");

  // Grids: grid-stride kernels get as many blocks as fit on the device at once; with the
  // megakernel, as many as it has (each of its blocks runs one of them).
  const DeviceInfo& dev = ctx.info();
  if (plan_.megakernel) {
    const ptx::Megakernel& mk = *plan_.megakernel;
    mega_fn_ = module_.function(mk.name);
    if (static_cast<int>(mk.smem) > dev.max_smem_per_block_optin)
      fail("the megakernel needs {} bytes of shared memory; {} allows {}", mk.smem, dev.name,
           dev.max_smem_per_block_optin);
    // Its static shared memory (every template's) comes on top: always opt in.
    set_max_dynamic_smem(mega_fn_, static_cast<int>(mk.smem));
    const int per_sm = max_active_blocks_per_sm(mega_fn_, 256, mk.smem);
    if (per_sm < 1)
      fail("the megakernel cannot run: not one block of 256 threads with {} bytes of shared "
           "memory fits on an SM of {}", mk.smem, dev.name);
    mega_blocks_ = static_cast<unsigned>(std::min<int>(per_sm, static_cast<int>(mk.min_blocks_per_sm)) *
                                         dev.sm_count);
  }
  for (const ptx::Launch& l : plan_.launches) {
    const Function f = functions_[l.kernel];
    const std::string& kname = plan_.kernels[l.kernel].name;
    const unsigned smem = l.launch_smem();
    if (static_cast<int>(smem) > dev.max_smem_per_block_optin)
      fail("kernel {} needs {} bytes of shared memory; {} allows {}", kname, smem, dev.name,
           dev.max_smem_per_block_optin);
    if (smem > kStaticSmemLimit) set_max_dynamic_smem(f, static_cast<int>(smem));
    unsigned gx = l.grid[0];
    if (l.work_blocks > 0) {
      const int per_sm = max_active_blocks_per_sm(f, static_cast<int>(l.block), smem);
      if (per_sm < 1)
        fail("kernel {} cannot run: not one block of {} threads with {} bytes of shared memory "
             "fits on an SM of {}", kname, l.block, smem, dev.name);
      gx = static_cast<unsigned>(std::min<int64_t>(l.work_blocks, int64_t{per_sm} * dev.sm_count));
    }
    grid_x_.push_back(gx);
  }
  if (plan_.megakernel) {
    place_ = ptx::place_tasks(plan_, mega_blocks_);
    for (size_t i = 0; i < place_.size(); ++i) grid_x_[i] = place_[i].nx;
  }
  if (opt_.lower.trace) {
    size_t slots = 0;
    for (size_t i = 0; i < plan_.launches.size(); ++i) {
      trace_offset_.push_back(slots);
      slots += uint64_t{kTraceSlots} * grid_x_[i] * plan_.launches[i].grid[1];
    }
    trace_ = DeviceBuffer(slots * 8, "trace slots");
    trace_.fill_u8(0);
  }
  for (size_t i = 0; i < plan_.launches.size(); ++i) {
    const ptx::Launch& l = plan_.launches[i];
    std::vector<uint64_t> a(24, 0);
    if (l.args.size() > a.size()) fail("internal: kernel {} takes too many arguments", i);
    for (size_t s = 0; s < l.args.size(); ++s) {
      const ptx::Arg& arg = l.args[s];
      switch (arg.kind) {
        case ptx::Arg::Kind::kNull: break;
        case ptx::Arg::Kind::kValue:
          a[s] = ptr_[arg.value.index];
          if (!a[s])
            fail("internal: kernel {} reads %{}, which has no device buffer",
                 plan_.kernels[l.kernel].name, graph_.value(arg.value).name);
          break;
        case ptx::Arg::Kind::kInt: a[s] = static_cast<uint64_t>(arg.i); break;
        case ptx::Arg::Kind::kF32: a[s] = std::bit_cast<uint32_t>(arg.f); break;
        case ptx::Arg::Kind::kStep: a[s] = step_.ptr(); break;
        case ptx::Arg::Kind::kScratch: a[s] = scratch_.at(static_cast<size_t>(arg.i)).ptr(); break;
        case ptx::Arg::Kind::kTrace:
          a[s] = opt_.lower.trace ? trace_.ptr() + 8 * trace_offset_[i] : 0;
          break;
      }
    }
    args_.push_back(std::move(a));
  }
  if (plan_.megakernel) setup_megakernel();
  if (opt_.use_graph) cuda_graph_ = Graph::capture(stream_, [&] { enqueue_all(); });
}

void Executor::setup_megakernel() {
  const ptx::Megakernel& mk = *plan_.megakernel;
  const size_t n = plan_.launches.size();
  if (opt_.hang_task && *opt_.hang_task >= n)
    fail("hang_task {}: the plan has {} launches", *opt_.hang_task, n);
  std::vector<MegaTask> tasks(n);
  for (size_t i = 0; i < n; ++i) {
    MegaTask& t = tasks[i];
    std::memset(&t, 0, sizeof t);
    std::copy(args_[i].begin(), args_[i].end(), t.args);
    t.kernel = static_cast<int32_t>(plan_.launches[i].kernel);
    t.nx = static_cast<int32_t>(place_[i].nx);
    t.ny = static_cast<int32_t>(place_[i].ny);
    t.first = static_cast<int32_t>(place_[i].first);
    std::vector<size_t> deps = mk.deps[i];
    if (opt_.hang_task == i) deps.push_back(n);  // counter n: bumped by no task
    if (deps.size() > static_cast<size_t>(ptx::kMegakernelMaxDeps))
      fail("internal: megakernel task {} waits for {} tasks", i, deps.size());
    t.n_deps = static_cast<int32_t>(deps.size());
    for (size_t d = 0; d < deps.size(); ++d) {
      t.deps[d] = static_cast<int32_t>(deps[d]);
      t.dep_arrivals[d] = deps[d] < n ? place_[deps[d]].arrivals : 1;
    }
  }
  tasks_ = DeviceBuffer(n * sizeof(MegaTask), "megakernel task table");
  tasks_.upload(tasks.data(), n * sizeof(MegaTask));
  counters_ = DeviceBuffer((n + 1) * 4, "megakernel task counters");
  counters_.fill_u8(0);
  device_bytes_ += tasks_.size() + counters_.size();
  mega_args_.assign(24, 0);
  mega_args_[0] = tasks_.ptr();
  mega_args_[1] = n;
  mega_args_[2] = counters_.ptr();
  mega_args_[3] = step_.ptr();
  mega_args_[4] = static_cast<uint64_t>(opt_.task_timeout_s * 1e9);
}

Executor::~Executor() = default;

void Executor::enqueue(size_t i, bool alone) {
  const ptx::Launch& l = plan_.launches[i];
  // In a whole step the step struct's upload zeroes the argmax key; alone, it is done here.
  if (alone)
    for (ir::ValueId v : l.zero_before)
      check(driver().cuMemsetD8Async(ptr_[v.index], 0, ptx::gpu_value_bytes(graph_, v),
                                     stream_.get()),
            "cuMemsetD8Async");
  LaunchDims d;
  d.grid[0] = grid_x_[i];
  d.grid[1] = l.grid[1];
  d.block[0] = l.block;
  d.smem = l.launch_smem();
  void* params[] = {args_[i].data()};
  // Every kernel after the first may start early and prefetch its weights (common.cuh).
  launch(functions_[l.kernel], d, stream_.get(), params, plan_.kernels[l.kernel].name,
         i > 0 ? LaunchMode::kProgrammaticDependency : LaunchMode::kPlain);
}

void Executor::enqueue_all() {
  if (!plan_.megakernel) {
    for (size_t i = 0; i < plan_.launches.size(); ++i) enqueue(i, false);
    return;
  }
  LaunchDims d;
  d.grid[0] = mega_blocks_;
  d.block[0] = 256;
  d.smem = plan_.megakernel->smem;
  void* params[] = {mega_args_.data()};
  launch(mega_fn_, d, stream_.get(), params, plan_.megakernel->name, LaunchMode::kCooperative);
}

void Executor::step(std::span<const int32_t> tokens, int64_t pos) {
  if (plan_.megakernel) ++epoch_;
  write_inputs(tokens, pos);
  launch_step();
}

void Executor::launch_step() {
  if (opt_.use_graph)
    cuda_graph_.launch(stream_);
  else
    enqueue_all();
  logits_host_.clear();
}

void Executor::step_rows(std::span<const int32_t> tokens, std::span<const int32_t> pos,
                         std::span<const int32_t> seq) {
  if (seq_.index == UINT32_MAX) fail("graph @{} holds one sequence: its steps take a start position", graph_.name);
  const auto n = static_cast<int64_t>(tokens.size());
  if (n < 1 || n > graph_.n_tokens || pos.size() != tokens.size() || seq.size() != tokens.size())
    fail("graph @{}: a batch step takes 1..{} tokens, each with a position and a sequence; got "
         "{} tokens, {} positions, {} sequences", graph_.name, graph_.n_tokens, tokens.size(),
         pos.size(), seq.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (seq[i] < 0 || seq[i] >= n_seq_)
      fail("graph @{}: token {} belongs to sequence {}, outside 0..{}", graph_.name, i, seq[i],
           n_seq_ - 1);
    if (pos[i] < 0 || pos[i] >= max_ctx_)
      fail("graph @{}: token {} is at position {}, outside the KV cache (0..{})", graph_.name, i,
           pos[i], max_ctx_ - 1);
  }
  // One staging area for every step: the previous step must have read it.
  stream_.sync("waiting before a batch step");
  n_ = n;
  auto* host = static_cast<int32_t*>(tokens_host_.data());
  const auto t = static_cast<size_t>(graph_.n_tokens);
  std::copy(tokens.begin(), tokens.end(), host);
  std::copy(pos.begin(), pos.end(), host + t);
  std::copy(seq.begin(), seq.end(), host + 2 * t);
  for (auto [v, at] : {std::pair{tok_, host}, {pos_, host + t}, {seq_, host + 2 * t}})
    check(driver().cuMemcpyHtoDAsync(ptr_[v.index], at, tokens.size() * 4, stream_.get()),
          "cuMemcpyHtoDAsync");
  auto* s = static_cast<Step*>(step_host_.data());
  *s = Step{};
  s->token = tokens[0];
  s->n_tokens = static_cast<int32_t>(n);
  step_.upload_async(s, sizeof(Step), 0, stream_.get());
  launch_step();
}

void Executor::write_inputs(std::span<const int32_t> tokens, int64_t pos) {
  if (seq_.index != UINT32_MAX)
    fail("graph @{} is a batch over {} sequences: its steps name each token's position and "
         "sequence (step_rows)", graph_.name, n_seq_);
  const int64_t n = runtime::check_step_range(graph_, tokens.size(), pos, max_ctx_);
  n_ = n;
  if (graph_.n_tokens > 1) {
    // Staged by position, like the step structs, so that enqueued copies never race.
    auto* t = static_cast<int32_t*>(tokens_host_.data()) + pos;
    std::copy(tokens.begin(), tokens.end(), t);
    check(driver().cuMemcpyHtoDAsync(ptr_[tok_.index], t, static_cast<size_t>(n) * 4,
                                     stream_.get()),
          "cuMemcpyHtoDAsync");
  }
  auto* s = static_cast<Step*>(step_host_.data()) + pos;
  *s = Step{};
  s->token = tokens[0];
  s->pos = static_cast<int32_t>(pos);
  s->n_tokens = static_cast<int32_t>(n);
  s->epoch = epoch_;
  step_.upload_async(s, sizeof(Step), 0, stream_.get());
}

int32_t Executor::argmax() {
  if (argmax_.index == UINT32_MAX) fail("graph @{} has no argmax output", graph_.name);
  sync_step("decoding a token", true);
  return key_token(static_cast<const Step*>(step_back_.data())->argmax_key);
}

void Executor::finish() { sync_step("decoding", false); }

void Executor::sync_step(std::string_view what, bool key) {
  // The struct comes back for the argmax key, and after a megakernel step for its fault.
  if (key || plan_.megakernel)
    check(driver().cuMemcpyDtoHAsync(step_back_.data(), step_.ptr(), sizeof(Step), stream_.get()),
          "cuMemcpyDtoHAsync");
  stream_.sync(what);
  const Step& s = *static_cast<const Step*>(step_back_.data());
  if (!plan_.megakernel || !s.fault) return;
  // The step's results are void and the counters short of their targets: start over. So
  // are the kernels' own counters (SwiGLU row groups, attention splits): blocks that gave
  // up left some tasks half run, and a count left standing would make a later step's
  // group or merge act on rows of this one.
  counters_.fill_u8(0);
  for (size_t i = 0; i < scratch_.size(); ++i)
    if (plan_.scratch[i].zeroed) scratch_[i].fill_u8(0);
  const uint32_t epoch = std::exchange(epoch_, 0);
  auto task = [&](uint32_t i) {
    if (i >= plan_.launches.size()) return fmt::format("task {} (a counter no task bumps)", i);
    const ptx::Launch& l = plan_.launches[i];
    return fmt::format("task {} ({}, brick {} %{})", i, plan_.kernels[l.kernel].name, l.brick,
                       graph_.value(graph_.bricks()[l.brick].results[0]).name);
  };
  fail("megakernel: {} on block {} (SM {}) waited more than {} s for {}, whose counter stood "
       "at {} of {}; the step's results are invalid",
       task(s.fault_task), s.fault_block, s.fault_sm, opt_.task_timeout_s, task(s.fault_dep),
       s.fault_seen,
       static_cast<uint64_t>(epoch) * (s.fault_dep < place_.size() ? place_[s.fault_dep].arrivals : 1));
}

std::span<const float> Executor::logits() {
  return logits_rows().last(static_cast<size_t>(graph_.type(logits_).shape.ne0()));
}

std::span<const float> Executor::logits_rows() {
  if (logits_host_.empty()) {
    sync_step("decoding a token", false);
    const ir::Shape& s = graph_.type(logits_).shape;
    logits_host_ = read(logits_, 0, s.ne0() * (s.rows() == 1 ? 1 : n_));
  }
  return logits_host_;
}

std::vector<float> Executor::logits_row(int64_t row) {
  const ir::Shape& s = graph_.type(logits_).shape;
  if (row < 0 || row >= (s.rows() == 1 ? 1 : n_))
    fail("graph @{}: row {} of the logits; the last step has {}", graph_.name, row,
         s.rows() == 1 ? 1 : n_);
  return read(logits_, row * s.ne0(), s.ne0());
}

std::vector<int32_t> Executor::argmax_rows() {
  if (!plan_.row_argmax) fail("graph @{} has no per-row argmax (not a batch step)", graph_.name);
  stream_.sync("reading each row's argmax");
  std::vector<int32_t> ids(static_cast<size_t>(n_));
  check(driver().cuMemcpyDtoH(ids.data(), scratch_[*plan_.row_argmax].ptr(), ids.size() * 4),
        "cuMemcpyDtoH");
  return ids;
}

void Executor::set_step(std::span<const int32_t> tokens, int64_t pos) {
  stream_.sync("waiting before a step struct update");
  write_inputs(tokens, pos);
  stream_.sync("writing the step inputs");
}

void Executor::run_brick(size_t b) {
  logits_host_.clear();
  for (size_t i = 0; i < plan_.launches.size(); ++i)
    if (plan_.launches[i].brick == b) enqueue(i, true);
  stream_.sync(fmt::format("running brick {} ({})", b, ir::keyword(graph_.bricks().at(b).kind)));
}

std::vector<float> Executor::read(ir::ValueId v, int64_t offset, int64_t count) {
  stream_.sync("reading a value");
  const ir::TensorType& t = graph_.type(v);
  if (!ptr_[v.index]) fail("%{} has no device buffer", graph_.value(v).name);
  const ByteRange r = device_range(graph_, v, offset, count);
  const auto n = static_cast<size_t>(count);
  std::vector<uint8_t> raw(r.bytes);
  check(driver().cuMemcpyDtoH(raw.data(), ptr_[v.index] + r.at, raw.size()), "cuMemcpyDtoH");
  std::vector<float> out(n);
  switch (t.elem) {
    case DType::F32: std::memcpy(out.data(), raw.data(), n * 4); break;
    case DType::F16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, raw.data() + 2 * i, 2);
        out[i] = quant::fp16_to_f32(h);
      }
      break;
    case DType::Q8_0: cache_q8_0_to_f32(raw.data(), t.shape.dims[0] * t.shape.dims[1], out); break;
    case DType::Q8_1: {
      const auto* ds = reinterpret_cast<const float*>(raw.data() + n);
      for (size_t i = 0; i < n; ++i)
        out[i] = static_cast<float>(static_cast<int8_t>(raw[i])) * ds[2 * (i / 32)];
      break;
    }
    case DType::I32: {
      uint64_t key;
      std::memcpy(&key, raw.data(), 8);
      out.assign(1, static_cast<float>(key_token(key)));
      break;
    }
    default: fail("%{} has type {}, which the GPU does not hold", graph_.value(v).name, name(t.elem));
  }
  return out;
}

void Executor::write(ir::ValueId v, int64_t offset, std::span<const float> x) {
  const ir::TensorType& t = graph_.type(v);
  if (!ptr_[v.index] || t.elem == DType::I32)
    fail("cannot write %{} : {}", graph_.value(v).name, ir::to_string(t));
  const ByteRange r = device_range(graph_, v, offset, static_cast<int64_t>(x.size()));
  const size_t n = x.size();
  std::vector<uint8_t> raw(r.bytes);
  switch (t.elem) {
    case DType::F32: std::memcpy(raw.data(), x.data(), n * 4); break;
    case DType::F16:
      for (size_t i = 0; i < n; ++i) {
        const uint16_t h = quant::f32_to_fp16(x[i]);
        std::memcpy(raw.data() + 2 * i, &h, 2);
      }
      break;
    case DType::Q8_0: cache_q8_0_from_f32(x, t.shape.dims[0] * t.shape.dims[1], raw.data()); break;
    case DType::Q8_1: quantize_q8_1(x, raw.data()); break;
    default: fail("cannot write %{} of type {}", graph_.value(v).name, name(t.elem));
  }
  stream_.sync("writing a value");
  check(driver().cuMemcpyHtoD(ptr_[v.index] + r.at, raw.data(), raw.size()), "cuMemcpyHtoD");
}

void Executor::poison() {
  stream_.sync("poisoning");
  for (const ir::Brick& b : graph_.bricks())
    for (size_t r = 0; r < b.results.size(); ++r)
      if (!ir::updated_operand(b, r))
        check(driver().cuMemsetD8(ptr_[b.results[r].index], 0xff,
                                  ptx::gpu_value_bytes(graph_, b.results[r])),
              "cuMemsetD8");
}

void Executor::clear_cache() {
  stream_.sync("clearing the KV cache");
  for (uint32_t i = 0; i < graph_.value_count(); ++i)
    // A cache shared from another executor is cleared by its owner.
    if (graph_.value(ir::ValueId{i}).kind == ir::ValueKind::State && values_[i].size() > 0)
      values_[i].fill_u8(0);
}

std::vector<std::vector<uint64_t>> Executor::trace_stamps() {
  if (!opt_.lower.trace) fail("tracing is off for this executor");
  stream_.sync("reading the trace");
  std::vector<uint64_t> t(trace_.size() / 8);
  trace_.download(t.data(), trace_.size());
  std::vector<std::vector<uint64_t>> stamps;
  for (size_t i = 0; i < plan_.launches.size(); ++i) {
    const auto first = t.begin() + static_cast<std::ptrdiff_t>(trace_offset_[i]);
    stamps.emplace_back(first, first + static_cast<std::ptrdiff_t>(kTraceSlots * grid_x_[i] * plan_.launches[i].grid[1]));
  }
  return stamps;
}

std::vector<LaunchSpan> Executor::trace_spans() {
  std::vector<LaunchSpan> spans;
  for (const std::vector<uint64_t>& s : trace_stamps()) spans.push_back(launch_span(s, ctx_.info().sm_count));
  return spans;
}

}  // namespace brickc::cuda
