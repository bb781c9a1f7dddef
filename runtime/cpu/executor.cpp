#include "runtime/cpu/executor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

#include "frontend/quant/quant.h"
#include "frontend/qwen2/config.h"
#include "ir/error.h"
#include "ir/verifier.h"
#include "runtime/decode_graph.h"

namespace brickc::cpu {
namespace {

constexpr uint32_t kNoSlot = UINT32_MAX;

bool is_i32_vector(const ir::TensorType& t, int64_t n) {
  return t.elem == DType::I32 && t.shape == ir::Shape{{n}};
}

}  // namespace

GraphExecutor::GraphExecutor(const gguf::File& file, ir::Graph graph, int n_threads,
                             const GraphExecutor* share_cache, Kernels kernels)
    : graph_(std::move(graph)), pool_(std::max(n_threads, 1)), kernels_(kernels) {
  if (kernels_ == Kernels::kInt8)
    resident_ = share_cache && share_cache->resident_ ? share_cache->resident_
                                                      : std::make_shared<ResidentWeights>();
  if (n_threads < 1) fail("thread count must be at least 1, found {}", n_threads);
  ir::verify_or_fail(graph_, fmt::format("graph @{} for {}", graph_.name, file.path()));
  alias_.assign(graph_.value_count(), kNoSlot);
  auto new_slot = [&](uint32_t index) {
    alias_[index] = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
    return std::ref(slots_.back());
  };
  bool have_tok = false, have_pos = false;
  for (uint32_t i = 0; i < graph_.value_count(); ++i) {
    const ir::Value& v = graph_.value(ir::ValueId{i});
    switch (v.kind) {
      case ir::ValueKind::Input: {
        const bool tok = v.name == "tok", pos = v.name == "pos", seq = v.name == "seq";
        if ((!tok && !pos && !seq) || !is_i32_vector(v.type, graph_.n_tokens))
          fail(
              "graph @{}: input %{} : {} is not a step input the CPU executor provides "
              "(expected %tok and %pos, and %seq in a batch, all i32[{}])",
              graph_.name, v.name, ir::to_string(v.type), graph_.n_tokens);
        if (seq) seq_ = ir::ValueId{i};
        else (tok ? tok_ : pos_) = ir::ValueId{i};
        if (tok) have_tok = true;
        if (pos) have_pos = true;
        new_slot(i).get().i.assign(static_cast<size_t>(graph_.n_tokens), 0);
        break;
      }
      case ir::ValueKind::Weight:
        bind_weight(file, v, new_slot(i).get());
        break;
      case ir::ValueKind::State: {
        const auto& d = v.type.shape.dims;
        if ((d.size() != 3 && d.size() != 4) || !ir::is_cache_type(v.type.elem) ||
            (v.type.elem == DType::Q8_0 && d[0] % 32 != 0))
          fail(
              "graph @{}: state %{} : {} is not a KV cache [head_dim, n_kv_heads, max_ctx] "
              "or [head_dim, n_kv_heads, max_ctx, n_seq] of f16, f32 or q8_0 (head_dim a "
              "multiple of 32)",
              graph_.name, v.name, ir::to_string(v.type));
        const int64_t n_seq = d.size() == 4 ? d[3] : 1;
        if (max_ctx_ != 0 && (d[2] != max_ctx_ || n_seq != n_seq_))
          fail("graph @{}: state %{} has {} positions for {} sequence(s), another cache {} for {}",
               graph_.name, v.name, d[2], n_seq, max_ctx_, n_seq_);
        max_ctx_ = d[2];
        n_seq_ = n_seq;
        states_.push_back(ir::ValueId{i});
        Slot& s = new_slot(i).get();
        if (share_cache) {
          const auto other = share_cache->graph_.find(v.name);
          if (!other || share_cache->graph_.type(*other) != v.type ||
              share_cache->kernels_ != kernels_)
            fail("graph @{}: state %{} : {} has no counterpart of that type and engine in graph "
                 "@{} to share the KV cache with", graph_.name, v.name, ir::to_string(v.type),
                 share_cache->graph_.name);
          s.cache = share_cache->slot(*other).cache;
        } else {
          s.cache = std::make_shared<Cache>(held_cache_type(kernels_, v.type.elem),
                                            static_cast<size_t>(v.type.shape.elements()));
        }
        break;
      }
      case ir::ValueKind::Result:
        break;  // allocated below, once it is known which results alias a cache
    }
  }
  if (!have_tok || !have_pos)
    fail("graph @{}: the step inputs %tok and %pos (i32[1]) must both be declared", graph_.name);
  if (seq_.has_value() != (n_seq_ > 1))
    fail("graph @{}: %seq is declared exactly when the caches have a sequence dimension",
         graph_.name);

  // A T-token graph's results are T rows each (about a GiB for the 1.5B at T = 512), so
  // results whose lives do not overlap share a buffer, by liveness over the brick order.
  // The decode graph keeps one buffer per result, so that every value stays readable
  // after a step (the tests read them).
  const bool share = graph_.n_tokens > 1;
  const auto& bricks = graph_.bricks();
  constexpr size_t kNever = SIZE_MAX - 1, kKeep = SIZE_MAX;  // unread; a graph output
  std::vector<size_t> last_use(graph_.value_count(), kNever);
  for (size_t i = 0; i < bricks.size(); ++i)
    for (ir::ValueId v : bricks[i].operands) last_use[v.index] = i;
  for (ir::ValueId v : graph_.outputs) last_use[v.index] = kKeep;
  std::vector<uint32_t> free_slots;  // f32 result buffers no live value holds
  auto take_slot = [&](uint32_t index, size_t n) {
    // The smallest free buffer that holds n, else the largest one, grown.
    auto best = free_slots.end();
    size_t best_cap = 0;
    for (auto it = free_slots.begin(); it != free_slots.end(); ++it) {
      const size_t cap = slots_[*it].f.size();
      const bool fits = cap >= n, best_fits = best != free_slots.end() && best_cap >= n;
      if (best == free_slots.end() || (fits && (!best_fits || cap < best_cap)) ||
          (!fits && !best_fits && cap > best_cap)) {
        best = it;
        best_cap = cap;
      }
    }
    if (best == free_slots.end()) {
      new_slot(index).get().f.assign(n, 0.0f);
      return;
    }
    alias_[index] = *best;
    free_slots.erase(best);
    Slot& s = slots_[alias_[index]];
    if (s.f.size() < n) s.f.resize(n, 0.0f);
  };
  auto release = [&](ir::ValueId v) {
    Slot& s = slot(v);
    if (s.cache || !s.i.empty()) return;  // caches persist; i32 results are not shared
    if (std::find(free_slots.begin(), free_slots.end(), alias_[v.index]) == free_slots.end())
      free_slots.push_back(alias_[v.index]);
  };
  int64_t scratch = 0;
  for (size_t i = 0; i < bricks.size(); ++i) {
    const ir::Brick& b = bricks[i];
    for (size_t r = 0; r < b.results.size(); ++r) {
      const ir::ValueId v = b.results[r];
      const ir::TensorType& t = graph_.type(v);
      if (auto cache = ir::updated_operand(b, r)) {
        alias_[v.index] = alias_[b.operands[*cache].index];
        continue;
      }
      const auto n = static_cast<size_t>(t.shape.elements());
      if (t.elem == DType::I32)
        new_slot(v.index).get().i.assign(n, 0);
      else if (share)
        take_slot(v.index, n);
      else
        new_slot(v.index).get().f.assign(n, 0.0f);
      scratch = std::max(scratch, t.shape.elements());
    }
    for (ir::ValueId v : b.operands)
      if (graph_.value(v).kind != ir::ValueKind::Weight &&
          graph_.value(v).kind != ir::ValueKind::State)
        scratch = std::max(scratch, graph_.type(v).shape.elements());
    if (!share) continue;
    // After the brick: its operands read for the last time, and results nobody reads.
    for (ir::ValueId v : b.operands)
      if (graph_.value(v).kind == ir::ValueKind::Result && last_use[v.index] == i) release(v);
    for (ir::ValueId v : b.results)
      if (last_use[v.index] == kNever) release(v);
  }
  scratch_a_.assign(static_cast<size_t>(scratch), 0.0f);
  scratch_b_.assign(static_cast<size_t>(scratch), 0.0f);
  scratch_c_.assign(static_cast<size_t>(scratch), 0.0f);

  for (ir::ValueId v : graph_.outputs) {
    if (graph_.type(v).elem != DType::F32) continue;
    if (logits_.index != UINT32_MAX)
      fail("graph @{}: outputs %{} and %{} are both f32; the executor expects one (the logits)",
           graph_.name, graph_.value(logits_).name, graph_.value(v).name);
    logits_ = v;
  }
  if (logits_.index == UINT32_MAX)
    fail("graph @{}: no f32 output (the logits) to return", graph_.name);
  if (graph_.type(logits_).shape.rows() == 1)
    for (const ir::Brick& b : bricks)
      if (b.kind == ir::BrickKind::Argmax && b.operands[0] == logits_) argmax_ = b.results[0];
  if (max_ctx_ == 0) fail("graph @{}: no KV cache state is declared", graph_.name);
  if (kernels_ == Kernels::kInt8)
    attention_kernels_ =
        simd::attention_kernels(simd::best_isa(), graph_.type(states_[0]).shape.dims[0]);
  brick_us_.assign(graph_.bricks().size(), 0.0);
}

void GraphExecutor::bind_weight(const gguf::File& file, const ir::Value& v, Slot& s) {
  if (v.tensor.empty())
    fail("graph @{}: weight %{} is bound to no GGUF tensor", graph_.name, v.name);
  const gguf::TensorInfo& t = file.tensor(v.tensor);
  if (t.type != v.type.elem || t.ne != v.type.shape.dims)
    fail("{}: tensor {} is {}{}, but weight %{} of graph @{} declares {}", file.path(), t.name,
         name(t.type), t.shape_string(), v.name, graph_.name, ir::to_string(v.type));
  if (!info(t.type).dequantizable)
    fail("{}: tensor {} has type {}, which brickc cannot convert to f32", file.path(), t.name,
         name(t.type));
  if (t.ne.size() == 1) {
    // Norm weights and biases: small, converted once.
    s.f.resize(static_cast<size_t>(t.n_elements()));
    quant::dequantize(t.type, t.data, s.f.data(), t.n_elements());
    return;
  }
  const auto bytes = row_bytes(t.type, static_cast<uint64_t>(t.ne[0]));
  if (t.ne.size() != 2 || !bytes)
    fail("{}: tensor {} {} is not a vector or a matrix of whole {} blocks", file.path(), t.name,
         t.shape_string(), name(t.type));
  s.m = {t.type, t.data, t.ne[0], t.n_rows(), *bytes};
  if (resident_) {
    // Repacked rows serve the products; an embedding lookup of the same tensor (a tied
    // LM head) reads its GGUF row from the mapping.
    const ResidentWeights::Copy c = resident_->get(t);
    (c.rows8 ? s.m.rows8 : s.m.data) = c.data;
  }
}

DType held_cache_type(Kernels kernels, DType declared) {
  return declared == DType::Q8_0 || kernels == Kernels::kInt8 ? declared : DType::F32;
}

GraphExecutor::Cache::Cache(DType held, size_t values) : type(held), n(values) {
  if (type == DType::F32) f32.assign(n, 0.0f);
  else if (type == DType::F16) f16.assign(n, 0);
  else q8.assign(static_cast<size_t>(q8_0_bytes(static_cast<int64_t>(n))), 0);
}

float GraphExecutor::Cache::get(size_t e) const {
  if (type == DType::F32) return f32[e];
  if (type == DType::F16) return quant::fp16_to_f32(f16[e]);
  const uint8_t* block = q8.data() + q8_0_bytes(static_cast<int64_t>(e / 32 * 32));
  return quant::load_fp16(block) * static_cast<float>(static_cast<int8_t>(block[2 + e % 32]));
}

void GraphExecutor::Cache::set(size_t e, float x) {
  if (type == DType::F32) {
    f32[e] = x;
  } else if (type == DType::F16) {
    f16[e] = quant::f32_to_fp16(x);
  } else {
    uint8_t* block = q8.data() + q8_0_bytes(static_cast<int64_t>(e / 32 * 32));
    float values[32];
    quant::dequantize(DType::Q8_0, block, values, 32);
    values[e % 32] = x;
    quant::quantize(DType::Q8_0, values, block, 32);
  }
}

void GraphExecutor::Cache::set_block(size_t e, const float* x) {
  quant::quantize(DType::Q8_0, x, q8.data() + q8_0_bytes(static_cast<int64_t>(e)), 32);
}

void GraphExecutor::Cache::clear() {
  std::ranges::fill(f32, 0.0f);
  std::ranges::fill(f16, uint16_t{0});
  std::ranges::fill(q8, uint8_t{0});
}

void GraphExecutor::clear_cache() {
  for (ir::ValueId v : states_) slot(v).cache->clear();
}

void GraphExecutor::poison() {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const ir::Brick& b : graph_.bricks())
    for (size_t r = 0; r < b.results.size(); ++r) {
      if (ir::updated_operand(b, r)) continue;  // the cache must survive
      Slot& s = slot(b.results[r]);
      std::fill(s.f.begin(), s.f.end(), nan);
      std::fill(s.i.begin(), s.i.end(), -1);
    }
}

std::span<const float> GraphExecutor::f32(ir::ValueId v) const {
  if (v.index >= alias_.size() || alias_[v.index] == kNoSlot || slot(v).floats().empty())
    fail("graph @{}: value #{} holds no f32 data in the CPU executor", graph_.name, v.index);
  return slot(v).floats();
}

std::span<const float> GraphExecutor::logits_rows() const {
  const int64_t vocab = len(logits_);
  const int64_t rows = graph_.type(logits_).shape.rows() == 1 ? 1 : n_;
  return f32(logits_).first(static_cast<size_t>(rows * vocab));
}

std::span<const float> GraphExecutor::logits() const {
  const int64_t vocab = len(logits_);
  return logits_rows().last(static_cast<size_t>(vocab));
}

std::optional<int32_t> GraphExecutor::argmax() const {
  if (!argmax_) return std::nullopt;
  return slot(*argmax_).i[0];
}

int32_t GraphExecutor::i32(ir::ValueId v) const {
  if (v.index >= alias_.size() || alias_[v.index] == kNoSlot || slot(v).i.empty())
    fail("graph @{}: value #{} holds no i32 data in the CPU executor", graph_.name, v.index);
  return slot(v).i[0];
}

void GraphExecutor::set_step(std::span<const int32_t> tokens, int64_t pos) {
  const int64_t n = runtime::check_step_range(graph_, tokens.size(), pos, max_ctx_);
  n_ = n;
  for (int64_t t = 0; t < n; ++t) {
    slot(tok_).i[static_cast<size_t>(t)] = tokens[static_cast<size_t>(t)];
    slot(pos_).i[static_cast<size_t>(t)] = static_cast<int32_t>(pos + t);
    if (seq_) slot(*seq_).i[static_cast<size_t>(t)] = 0;
  }
}

void GraphExecutor::step_rows(std::span<const int32_t> tokens, std::span<const int32_t> pos,
                              std::span<const int32_t> seq) {
  const auto n = static_cast<int64_t>(tokens.size());
  if (n < 1 || n > graph_.n_tokens || pos.size() != tokens.size() || seq.size() != tokens.size())
    fail("graph @{}: a batch step takes 1..{} tokens, each with a position and a sequence; got "
         "{} tokens, {} positions, {} sequences", graph_.name, graph_.n_tokens, tokens.size(),
         pos.size(), seq.size());
  for (int64_t t = 0; t < n; ++t) {
    const auto i = static_cast<size_t>(t);
    if (seq[i] < 0 || seq[i] >= n_seq_)
      fail("graph @{}: token {} belongs to sequence {}, outside 0..{}", graph_.name, t, seq[i],
           n_seq_ - 1);
    slot(tok_).i[i] = tokens[i];
    slot(pos_).i[i] = pos[i];
    if (seq_) slot(*seq_).i[i] = seq[i];
  }
  n_ = n;
  run_bricks();
}

void GraphExecutor::run_bricks() {
  for (size_t i = 0; i < graph_.bricks().size(); ++i) run_brick(i);
}

int64_t GraphExecutor::cache_at(ir::ValueId cache, int64_t seq, int64_t head, int64_t pos) const {
  const auto& d = graph_.type(cache).shape.dims;  // [head_dim, n_kv_heads, max_ctx(, n_seq)]
  return ((seq * d[1] + head) * max_ctx_ + pos) * d[0];
}

int64_t GraphExecutor::cache_element(ir::ValueId cache, int64_t e) const {
  const auto& d = graph_.type(cache).shape.dims;
  const int64_t row = e / d[0], pos = row / d[1] % max_ctx_, seq = row / d[1] / max_ctx_;
  return cache_at(cache, seq, row % d[1], pos) + e % d[0];
}

std::vector<float> GraphExecutor::read(ir::ValueId v, int64_t offset, int64_t count) {
  if (graph_.type(v).elem == DType::I32) {
    if (offset != 0 || count != 1 || graph_.type(v).shape.elements() != 1)
      fail("graph @{}: %{} is not one i32", graph_.name, graph_.value(v).name);
    return {static_cast<float>(i32(v))};
  }
  const bool bound = v.index < alias_.size() && alias_[v.index] != kNoSlot;
  const Cache* cache = bound ? slot(v).cache.get() : nullptr;
  const size_t size = cache ? cache->n : f32(v).size();
  if (offset < 0 || count < 0 || static_cast<size_t>(offset + count) > size)
    fail("graph @{}: elements [{}, {}) are outside %{} : {}", graph_.name, offset, offset + count,
         graph_.value(v).name, ir::to_string(graph_.type(v)));
  if (!cache) return {f32(v).begin() + offset, f32(v).begin() + offset + count};
  std::vector<float> values(static_cast<size_t>(count));
  for (int64_t e = 0; e < count; ++e) values[e] = cache->get(cache_element(v, offset + e));
  return values;
}

void GraphExecutor::write(ir::ValueId v, int64_t offset, std::span<const float> values) {
  Slot& s = slot(v);
  const size_t size = s.cache ? s.cache->n : s.f.size();
  if (graph_.value(v).kind == ir::ValueKind::Weight || offset < 0 ||
      static_cast<size_t>(offset) + values.size() > size)
    fail("graph @{}: cannot write {} values at {} to %{} : {}", graph_.name, values.size(), offset,
         graph_.value(v).name, ir::to_string(graph_.type(v)));
  for (size_t e = 0; e < values.size(); ++e) {
    const auto at = static_cast<int64_t>(e) + offset;
    // A q8_0 cache takes whole blocks at once: value by value, each would requantize its
    // block with the values before it and round those again (a row head_dim long is whole
    // blocks, so a block's 32 values are consecutive here too).
    if (s.cache && s.cache->type == DType::Q8_0 && at % 32 == 0 && values.size() - e >= 32) {
      s.cache->set_block(static_cast<size_t>(cache_element(v, at)), values.data() + e);
      e += 31;
      continue;
    }
    if (s.cache) s.cache->set(cache_element(v, at), values[e]);
    else s.f[at] = values[e];
  }
}

void GraphExecutor::plant_fault(size_t i) {
  if (i >= graph_.bricks().size())
    fail("graph @{}: no brick {} to plant a fault in", graph_.name, i);
  fault_ = i;
}

void GraphExecutor::corrupt(const ir::Brick& b) {
  const ir::ValueId r = b.results[0];
  Slot& s = slot(r);
  if (!s.i.empty()) {
    s.i[0] += 1;
    return;
  }
  if (s.cache) {  // the row of the step's first token
    const int64_t seq0 = seq_ ? slot(*seq_).i[0] : 0;
    const auto at = static_cast<size_t>(cache_at(r, seq0, 0, slot(pos_).i[0]));
    const float x = s.cache->get(at);
    s.cache->set(at, x + 1000.0f * (1.0f + std::fabs(x)));
    return;
  }
  s.f[0] += 1000.0f * (1.0f + std::fabs(s.f[0]));
}

void GraphExecutor::run_brick(size_t i) {
  const ir::Brick& b = graph_.bricks().at(i);
  const auto t0 = std::chrono::steady_clock::now();
  run(b);
  if (fault_ == i) corrupt(b);
  brick_us_[i] =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
}

void GraphExecutor::step(std::span<const int32_t> tokens, int64_t pos) {
  set_step(tokens, pos);
  run_bricks();
}

void GraphExecutor::append_kv(const float* k, const float* v, int64_t pos, int64_t seq,
                              ir::ValueId kc, ir::ValueId vc) {
  const auto& d = graph_.type(kc).shape.dims;  // [head_dim, n_kv_heads, max_ctx(, n_seq)]
  Cache &kcache = *slot(kc).cache, &vcache = *slot(vc).cache;
  for (int64_t h = 0; h < d[1]; ++h) {
    const int64_t at = cache_at(kc, seq, h, pos);
    auto append = [&](Cache& c, const float* x) {
      if (c.type == DType::F32) std::copy_n(x, d[0], c.f32.data() + at);
      else if (c.type == DType::F16) to_f16(attention_kernels_, x, c.f16.data() + at, d[0]);
      else quant::quantize(DType::Q8_0, x, c.q8.data() + q8_0_bytes(at), d[0]);
    };
    append(kcache, k + h * d[0]);
    append(vcache, v + h * d[0]);
  }
}

KvView GraphExecutor::kv_view(ir::ValueId kc, ir::ValueId vc, int64_t seq) const {
  const auto& d = graph_.type(kc).shape.dims;
  const auto at = static_cast<size_t>(cache_at(kc, seq, 0, 0));
  const Cache &k = *slot(kc).cache, &v = *slot(vc).cache;
  auto base = [&](const Cache& c) -> const void* {
    if (c.type == DType::F32) return c.f32.data() + at;
    if (c.type == DType::F16) return c.f16.data() + at;
    return c.q8.data() + q8_0_bytes(static_cast<int64_t>(at));
  };
  return {base(k), base(v), d[0], max_ctx_ * d[0], k.type, v.type};
}

void GraphExecutor::matmuls(std::initializer_list<MatmulPart> parts, const float* x, int64_t n) {
  if (kernels_ == Kernels::kInt8) return matmul_q8(pool_, simd::best_isa(), parts, x, n);
  for (const MatmulPart& p : parts) matmul(pool_, *p.w, x, n, p.y, p.bias);
}

void GraphExecutor::run(const ir::Brick& b) {
  using K = ir::BrickKind;
  const auto& o = b.operands;
  const ir::ValueId r0 = b.results[0];
  const int64_t n = n_;
  // Position of token t of the step.
  auto position = [&](ir::ValueId v, int64_t t) {
    const int64_t p = slot(v).i[static_cast<size_t>(t)];
    if (p < 0 || p >= max_ctx_)
      fail("{} brick: position %{} = {} is outside the KV cache (0..{})", keyword(b.kind),
           graph_.value(v).name, p, max_ctx_ - 1);
    return p;
  };
  // Sequence of token t: operand i (%seq) where the brick has it, else the only one, 0.
  auto sequence = [&](size_t i, int64_t t) -> int64_t {
    return i < o.size() ? slot(o[i]).i[static_cast<size_t>(t)] : 0;
  };
  auto weight = [&](ir::ValueId v) -> const Matrix& { return slot(v).m; };
  auto bias = [&](size_t i) { return i < o.size() ? in(o[i]) : nullptr; };
  // Logits for every token, or (a vector result) for the step's last token alone.
  const bool last_only = graph_.type(r0).shape.rows() == 1;
  auto logit_rows = [&](ir::ValueId x) { return last_only ? in(x) + (n - 1) * len(x) : in(x); };
  const int64_t logit_n = last_only ? 1 : n;
  // Per-token and element-wise work over the pool in pieces of at least `grain` items,
  // each worth more than handing it out (a few µs): a decode step's norms and adds stay on
  // the caller, while a 512-token step's SwiGLU (4.6 M exp on the 1.5B, 3 % of a
  // one-thread prefill) would be the serial part that 16 threads wait on.
  auto spread = [&](int64_t items, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
    pool_.run_parallel(items, std::max<int64_t>(grain, items / (4 * pool_.n_threads())), fn);
  };
  auto norm_rows = [&](const float* x, ir::ValueId w, float* y, int64_t rows, int64_t k) {
    spread(rows, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) rmsnorm(x + t * k, in(w), y + t * k, k, b.float_attr("eps"));
    });
  };
  auto swiglu_all = [&](const float* g, const float* u, float* y, int64_t m) {
    const auto fn = attention_kernels_.swiglu ? attention_kernels_.swiglu : &swiglu;
    spread(m, 1024, [&](int64_t i0, int64_t i1) { fn(g + i0, u + i0, y + i0, i1 - i0); });
  };
  auto add_all = [&](const float* a, const float* c, float* y, int64_t m) {
    spread(m, 16384, [&](int64_t i0, int64_t i1) { add(a + i0, c + i0, y + i0, i1 - i0); });
  };
  switch (b.kind) {
    case K::Embed: {
      const Matrix& table = weight(o[1]);
      for (int64_t t = 0; t < n; ++t) {
        const int32_t tok = slot(o[0]).i[static_cast<size_t>(t)];
        if (tok < 0 || tok >= table.rows)
          fail("token id {} is out of range: the embedding table %{} has {} rows", tok,
               graph_.value(o[1]).name, table.rows);
        embed(table, tok, out(r0) + t * table.cols);
      }
      return;
    }
    case K::Rmsnorm:
      norm_rows(in(o[0]), o[1], out(r0), n, len(o[0]));
      return;
    case K::Matvec:
      matmuls({{&weight(o[1]), out(r0), bias(2)}}, in(o[0]), n);
      return;
    case K::Qkv:
      matmuls({{&weight(o[1]), out(b.results[0]), bias(4)},
               {&weight(o[2]), out(b.results[1]), bias(5)},
               {&weight(o[3]), out(b.results[2]), bias(6)}},
              in(o[0]), n);
      return;
    case K::Rope: {
      const int64_t hd = b.int_attr("head_dim"), k = len(o[0]);
      std::copy_n(in(o[0]), n * k, out(r0));
      for (int64_t t = 0; t < n; ++t)
        rope_neox(out(r0) + t * k, k / hd, hd, position(o[1], t), b.float_attr("theta"));
      return;
    }
    case K::KvAppend:
      for (int64_t t = 0; t < n; ++t)
        append_kv(in(o[0]) + t * len(o[0]), in(o[1]) + t * len(o[1]), position(o[2], t),
                  sequence(5, t), o[3], o[4]);
      return;
    case K::Attention: {
      // Each query sees the cache up to its own position (causal), which the appends of the
      // whole step have already filled; a step's positions are consecutive (set_step).
      const auto& d = graph_.type(o[1]).shape.dims;
      const int64_t k = len(o[0]);
      AttentionConfig cfg{k / d[0], d[1], d[0], false, attention_kernels_};
      if (o.size() > 4) {
        // A batch: each token reads its own sequence's cache, up to its own position.
        for (int64_t t = 0; t < n; ++t)
          attention(pool_, cfg, in(o[0]) + t * k, 1, position(o[3], t),
                    kv_view(o[1], o[2], sequence(4, t)), out(r0) + t * k);
        return;
      }
      position(o[3], n - 1);  // range check of the last, the largest
      attention(pool_, cfg, in(o[0]), n, position(o[3], 0), kv_view(o[1], o[2], 0), out(r0));
      return;
    }
    case K::Swiglu:
      swiglu_all(in(o[0]), in(o[1]), out(r0), n * len(r0));
      return;
    case K::Add:
      add_all(in(o[0]), in(o[1]), out(r0), n * len(r0));
      return;
    case K::LmHead:
      matmuls({{&weight(o[1]), out(r0)}}, logit_rows(o[0]), logit_n);
      return;
    case K::Argmax:
      slot(r0).i[0] = cpu::argmax(pool_, in(o[0]), len(o[0]));
      return;
    // Composites: the parts' functions in the parts' order, intermediates in scratch.
    case K::RmsnormMatvec:
      norm_rows(in(o[0]), o[1], scratch_a_.data(), n, len(o[0]));
      matmuls({{&weight(o[2]), out(r0), bias(3)}}, scratch_a_.data(), n);
      return;
    case K::RmsnormQkv:
      norm_rows(in(o[0]), o[1], scratch_a_.data(), n, len(o[0]));
      matmuls({{&weight(o[2]), out(b.results[0]), bias(5)},
               {&weight(o[3]), out(b.results[1]), bias(6)},
               {&weight(o[4]), out(b.results[2]), bias(7)}},
              scratch_a_.data(), n);
      return;
    case K::RmsnormGateUpSwiglu: {
      // Three intermediates: the normalized x, then gate and up.
      float* h = scratch_c_.data();
      norm_rows(in(o[0]), o[1], h, n, len(o[0]));
      matmuls({{&weight(o[2]), scratch_a_.data()}, {&weight(o[3]), scratch_b_.data()}}, h, n);
      swiglu_all(scratch_a_.data(), scratch_b_.data(), out(r0), n * len(r0));
      return;
    }
    case K::RmsnormLmHead:
      norm_rows(logit_rows(o[0]), o[1], scratch_a_.data(), logit_n, len(o[0]));
      matmuls({{&weight(o[2]), out(r0)}}, scratch_a_.data(), logit_n);
      return;
    case K::GateUpSwiglu:
      matmuls({{&weight(o[1]), scratch_a_.data()}, {&weight(o[2]), scratch_b_.data()}}, in(o[0]), n);
      swiglu_all(scratch_a_.data(), scratch_b_.data(), out(r0), n * len(r0));
      return;
    case K::RopeKvAppend: {
      const int64_t hd = graph_.type(o[4]).shape.dims[0];
      const float theta = b.float_attr("theta");
      const int64_t nq = len(o[0]), nk = len(o[1]);
      // Tokens over the pool (rope_neox's tables are per thread).
      spread(n, 1, [&](int64_t t0, int64_t t1) {
        thread_local std::vector<float> k;
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t pos = position(o[3], t);
          std::copy_n(in(o[0]) + t * nq, nq, out(r0) + t * nq);
          rope_neox(out(r0) + t * nq, nq / hd, hd, pos, theta);
          k.assign(in(o[1]) + t * nk, in(o[1]) + (t + 1) * nk);
          rope_neox(k.data(), nk / hd, hd, pos, theta);
          append_kv(k.data(), in(o[2]) + t * nk, pos, sequence(6, t), o[4], o[5]);
        }
      });
      return;
    }
    case K::MatvecAdd:
      matmuls({{&weight(o[1]), scratch_a_.data()}}, in(o[0]), n);
      add_all(in(o[2]), scratch_a_.data(), out(r0), n * len(r0));
      return;
  }
  fail("internal: the CPU executor has no implementation of brick kind {}", keyword(b.kind));
}

GraphModel::GraphModel(const gguf::File& file, const GraphModelOptions& opt,
                       Qwen2Model::LogitsFn each)
    : file_(file),
      opt_(opt),
      exec_(file, runtime::decode_graph(file, opt.n_ctx, opt.passes, "cpu", {}, opt.cache),
            opt.n_threads, nullptr, opt.kernels),
      n_vocab_(qwen2::read_config(file).n_vocab),
      each_(std::move(each)) {
  if (opt.n_ubatch < 1) fail("the micro-batch (-ub) must be at least 1 token, found {}", opt.n_ubatch);
  if (opt.plant_fault) exec_.plant_fault(exec_.graph().find_brick(*opt.plant_fault));
}

GraphExecutor& GraphModel::batch() {
  if (!batch_) {
    runtime::StepShape shape{std::min(opt_.n_ubatch, exec_.max_ctx()), static_cast<bool>(each_)};
    batch_ = std::make_unique<GraphExecutor>(
        file_, runtime::decode_graph(file_, opt_.n_ctx, opt_.passes, "cpu", shape, opt_.cache),
        opt_.n_threads, &exec_, opt_.kernels);
    if (opt_.plant_fault) batch_->plant_fault(batch_->graph().find_brick(*opt_.plant_fault));
  }
  return *batch_;
}

void GraphModel::reset() {
  exec_.clear_cache();
  n_past_ = 0;
}

void GraphModel::prefill(std::span<const int32_t> tokens) {
  runtime::check_tokens(tokens, n_past_, exec_.max_ctx(), n_vocab_);
  GraphExecutor* b = tokens.size() > 1 && opt_.n_ubatch > 1 ? &batch() : nullptr;
  std::function<void(GraphExecutor&)> poison;
  if (opt_.poison) poison = [](GraphExecutor& e) { e.poison(); };
  last_ = &evaluate(exec_, b, tokens, n_past_, each_, poison);
}

}  // namespace brickc::cpu
