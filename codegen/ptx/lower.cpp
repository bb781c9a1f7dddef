#include "codegen/ptx/lower.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <numeric>
#include <set>
#include <span>

#include "codegen/ptx/megakernel.h"
#include "ir/error.h"

namespace brickc::ptx {
namespace {

using ir::BrickKind;
using K = Arg::Kind;

constexpr int kWarps = 8;         // kernels/common.cuh: kWarps
constexpr int kRingBytes = 6144;  // kernels/matvec.cuh: Ring, each warp's weight ring, or
constexpr int kRingSmall = 4096;  // two 2 KB segments where that fits another block
constexpr int kRingPairs = 12288;  // the most a gate/up ring grows to hold two whole pairs
constexpr int kMatvecBlocks = 4;  // matvec-family blocks per SM at 64 registers (the 7B's)
constexpr int kDenseBlocks = 6;   // ... at 40 registers (kernels/matvec.cuh on Q5_0 rows)
constexpr int kThreads = 256;     // kernels/common.cuh: kThreads, the block of every decode kernel
// T-token steps (kernels/gemm.cuh, flash_attention.cuh): tile sizes, block sizes, shared memory.
constexpr int64_t kGemmTileM = 128, kGemmTileN = 128;
constexpr unsigned kGemmThreads = 256;
constexpr unsigned kGemmSmem = 65536;              // gemm.cuh: gemm_smem_bytes()
constexpr int64_t kDqTokens = 64, kDqRows = 128;   // gemm.cuh: gemm_dq's most tokens, rows per block
constexpr int64_t kPrepChunk = 2048;               // gemm.cuh: prefill_prep's values per block
constexpr unsigned kDqSmem = 65536;                 // gemm.cuh: gemm_dq_smem_bytes()
// Two blocks of gemm_dq per SM (registers at most 128): a lane holds only the next block's
// or pair's weight bytes, so the SM needs both blocks' loads in flight to cover HBM's latency.
constexpr unsigned kDqBlocksPerSm = 2;
constexpr double kDqBlockCost = 1.0;  // a gemm_dq block's fixed cost in 256-value units of its K
constexpr int64_t kFlashTileQ = 64;                 // flash_attention.cuh: kFlashBQ
constexpr unsigned kFlashThreads = 128;
// kernels/kv_cache.cuh: kv_q8_tile_bytes, a staged tile of rows of a q8_0 cache's head.
int64_t q8_tile(int64_t hd, int64_t rows) { return rows * (hd + hd / 16); }
// flash_attention.cuh: flash_smem_bytes, two stages of K and V tiles (and for a q8_0 cache
// the f16 tiles they are widened into).
unsigned flash_smem(int64_t hd, bool q8) {
  return static_cast<unsigned>(q8 ? 4 * q8_tile(hd, 64) + 256 * hd : 512 * hd);
}
// attention.cuh: attention_part_floats and attention_counters, a token's partials (per
// split and per group of kAttnGroup splits) and merge counters.
constexpr int64_t kAttnGroup = 8;
int64_t attention_groups(int64_t s) { return (s + kAttnGroup - 1) / kAttnGroup; }
int64_t attention_part_floats(int64_t nq, int64_t s, int64_t hd) { return nq * (s + attention_groups(s)) * (hd + 2); }
int64_t attention_counters(int64_t nkv, int64_t s) { return nkv * (2 + attention_groups(s)); }
// attention.cuh: attention_smem_bytes, the long-cache path's ring of K and V tiles of 64
// rows (f16 or q8_0), as many as fill 64 KB and at least two.
unsigned attention_smem(int64_t hd, bool q8) {
  const int64_t stage = 2 * (q8 ? q8_tile(hd, 64) : 64 * hd * 2);
  return static_cast<unsigned>(std::max<int64_t>(2, 65536 / stage) * stage);
}
// Decode attention's most KV splits: at long context, one (KV head, split) block an SM,
// at most 128 (a merge's shared memory holds a weight per split). Blocks sized for two an
// SM (a power of two of splits) left the scheduler pairing them on some SMs while others
// held none, and a paired block ended 2.4 us after one alone (bench/results/gpu-h100/
// session46: +2.3 % on the 1.5B and +1.2 % on the 7B at depth 16,384).
int64_t attention_splits(int64_t nkv, unsigned sms) {
  return std::clamp<int64_t>(static_cast<int64_t>(sms) / nkv, 1, 128);
}

Arg arg(K kind, ir::ValueId v = {}, int64_t i = 0, float f = 0.0f) {
  Arg a;
  a.kind = kind;
  a.value = v;
  a.i = i;
  a.f = f;
  return a;
}
Arg value(ir::ValueId v) { return arg(K::kValue, v); }
Arg integer(int64_t i) { return arg(K::kInt, {}, i); }
Arg f32(float f) { return arg(K::kF32, {}, 0, f); }
Arg step() { return arg(K::kStep); }
Arg null() { return arg(K::kNull); }
Arg trace() { return arg(K::kTrace); }
Arg scratch(size_t i) { return arg(K::kScratch, {}, static_cast<int64_t>(i)); }

// The template struct of a weight format (kernels/quant_formats.cuh).
std::string_view format_struct(DType t) {
  switch (t) {
    case DType::Q4_0: return "FmtQ4_0";
    case DType::Q4_1: return "FmtQ4_1";
    case DType::Q5_0: return "FmtQ5_0";
    case DType::Q5_1: return "FmtQ5_1";
    case DType::Q8_0: return "FmtQ8_0";
    case DType::Q4_K: return "FmtQ4_K";
    case DType::Q5_K: return "FmtQ5_K";
    case DType::Q6_K: return "FmtQ6_K";
    case DType::F16: return "FmtF16";
    case DType::F32: return "FmtF32";
    default: return {};
  }
}

bool int8_format(DType t) { return t != DType::F16 && t != DType::F32; }

class Lowering {
 public:
  Lowering(const ir::Graph& g, const LowerOptions& o) : g_(g), o_(o), seq_(g.find("seq")) {}

  KernelPlan run() {
    for (size_t i = 0; i < g_.bricks().size(); ++i) {
      brick_ = i;
      lower(g_.bricks()[i]);
      if (o_.plant_fault == i) plant_fault(g_.bricks()[i]);
    }
    std::string src =
        "// Generated by brickc from graph @" + g_.name +
        ": one wrapper per kernel instance.\n" +
        (o_.trace ? "#define BRICKC_TRACE 1  // profiling: every block stamps its start and end\n" : "") +
        "#include \"matvec.cuh\"\n#include \"vector_ops.cuh\"\n"
        "#include \"rope_kv_append.cuh\"\n#include \"attention.cuh\"\n#include \"argmax.cuh\"\n"
        "#include \"plant_fault.cuh\"\n" +
        (g_.n_tokens > 1
             ? "#include \"gemm.cuh\"\n#include \"flash_attention.cuh\"\n#include \"rows.cuh\"\n"
             : "");
    for (const Kernel& k : plan_.kernels)
      src += fmt::format(
          "\nextern \"C\" __global__ void __launch_bounds__({}{}) {}(const KArgs a) {{\n  {}(a, GridBlock());\n}}\n",
          k.threads, k.min_blocks ? fmt::format(", {}", k.min_blocks) : "", k.name, k.template_call);
    plan_.source = std::move(src);
    return std::move(plan_);
  }

 private:
  [[noreturn]] void unsupported(const std::string& why) const {
    const ir::Brick& b = g_.bricks()[brick_];
    fail("graph @{}: no GPU kernel for {} %{}{}: {}", g_.name, ir::keyword(b.kind),
         g_.value(b.results[0]).name, b.loc ? fmt::format(" (line {})", b.loc.line) : "", why);
  }

  DType type(ir::ValueId v) const { return g_.type(v).elem; }
  int64_t len(ir::ValueId v) const { return g_.type(v).shape.ne0(); }

  std::string weight_format(ir::ValueId w) const {
    const auto s = format_struct(type(w));
    if (s.empty()) unsupported(fmt::format("weights %{} are {}", g_.value(w).name, name(type(w))));
    return std::string(s);
  }

  size_t kernel(const std::string& stem, const std::string& call, unsigned threads = 256,
                unsigned min_blocks = 0) {
    // One kernel per template instance and register bound.
    const std::string key = fmt::format("{}/{}", call, min_blocks);
    if (auto it = by_call_.find(key); it != by_call_.end()) return it->second;
    std::string n = stem;
    for (int i = 2; names_.contains(n); ++i) n = fmt::format("{}_{}", stem, i);
    names_.insert(n);
    plan_.kernels.push_back({n, call, threads, min_blocks});
    return by_call_[key] = plan_.kernels.size() - 1;
  }

  Launch& launch(size_t k, std::vector<Arg> args) {
    Launch l;
    l.brick = brick_;
    l.kernel = k;
    l.args = std::move(args);
    plan_.launches.push_back(std::move(l));
    return plan_.launches.back();
  }

  size_t add_scratch(uint64_t bytes, std::string what, bool zeroed) {
    plan_.scratch.push_back({bytes, std::move(what), zeroed});
    return plan_.scratch.size() - 1;
  }

  // The input kind of a matvec-family brick (kernels/activations.cuh): q8_1 from memory,
  // f32, or f32 through a norm; `fine` quantizes an f32 input twice (value and residual).
  std::string input_kind(ir::ValueId x, bool norm, bool int8, bool fine) const {
    if (type(x) == DType::Q8_1) {
      if (norm) unsupported("a norm over a q8_1 input");
      if (!int8) unsupported("a q8_1 input to float weights");
      return "kInQ8";
    }
    if (type(x) != DType::F32) unsupported(fmt::format("input of type {}", name(type(x))));
    return std::string(norm ? "kInNormF32" : "kInF32") + (fine && int8 ? "Fine" : "");
  }

  // The matvec-family kernels hold a q8_1 activation swizzled in groups of 64 values
  // (kernels/activations.cuh: q8_chunk); every Qwen2.5 width is a multiple of 64.
  void check_q8_groups(int64_t k, bool int8) const {
    if (int8 && k % 64 != 0)
      unsupported(fmt::format("{} columns are not a multiple of 64 (the groups of the q8_1 activation)", k));
  }

  // Bytes of a matvec-family block's activation, after its warps' rings in shared memory
  // (the block's total is kWarps * ring_bytes + act_smem).
  static unsigned act_smem(int64_t k, bool int8, bool fine) {
    return static_cast<unsigned>(int8 ? (k + k / 32 * 8 + 15) / 16 * 16 * (fine ? 2 : 1) : k * 4);  // kernels/activations.cuh: q8_smem
  }

  // Each warp's weight ring (kernels/matvec.cuh): 6 KB, or 4 KB where that puts another
  // block on each SM and so lowers the most rows a warp takes, while that most is small
  // (at most 4), since then one row more is a large share of the brick's time: the 7B's
  // down projection (3,584 rows of 15 KB) had 3 blocks of 8 warps per SM, 3,168 warps, and
  // 416 of them took a second row while the rest of the device waited.
  // `dense`: the kernel fits kDenseBlocks blocks per SM in registers. Where the small ring
  // at that many blocks gives every warp one item and the large ring leaves some two, it
  // takes the small ring and the registers are bounded to fit them (min_blocks): the
  // 0.5B's gate/up (4,864 pairs; 4,224 warps at 4 blocks of 8 on 132 SMs; 40 registers).
  // Otherwise the registers are bounded to kMatvecBlocks blocks where shared memory fits
  // them and one block fewer would leave some warp an item more: a kernel that needs more
  // than 64 registers (the K-quants' qkv of 5,120 columns: 71) gets 3 blocks per SM, and
  // the 14B's qkv (7,168 rows) then gives warps 3 rows, not 2.
  // `pair_row`: the bytes of a row whose gate/up pairs the kernel streams (0: no pairs).
  // A pair streamed in half-row segments pays the ring's bookkeeping (the wait, the
  // copies' addresses, the cursor) per segment, as many instructions as the dots' own on
  // the 7B (2,016-byte rows), so where two slots of two whole rows outgrow the 6 KB ring
  // but fit in kRingPairs the ring grows to them, bounded to the blocks per SM that shared
  // memory then fits.
  struct Ring {
    int bytes;
    unsigned min_blocks;  // 0: no bound
  };
  Ring ring_for(int64_t rows, unsigned act, bool dense, int64_t pair_row = 0) const {
    if (4 * pair_row > kRingBytes && 4 * pair_row <= kRingPairs) {
      const int ring = static_cast<int>(4 * pair_row);
      return {ring, static_cast<unsigned>(ring_blocks(ring, act, kMatvecBlocks))};
    }
    const int64_t b6 = ring_blocks(kRingBytes, act, kMatvecBlocks);
    const int64_t b4 = ring_blocks(kRingSmall, act, kMatvecBlocks);
    const int64_t m6 = most_items(rows, b6);
    auto bound = [&](int64_t blocks) -> unsigned {
      return blocks == kMatvecBlocks && most_items(rows, blocks) < most_items(rows, blocks - 1)
                 ? static_cast<unsigned>(kMatvecBlocks)
                 : 0;
    };
    if (b4 > b6 && most_items(rows, b4) < m6 && m6 <= 4) return {kRingSmall, bound(b4)};
    if (dense && m6 == 2 && ring_blocks(kRingSmall, act, kDenseBlocks) == kDenseBlocks &&
        most_items(rows, kDenseBlocks) == 1)
      return {kRingSmall, static_cast<unsigned>(kDenseBlocks)};
    return {kRingBytes, bound(b6)};
  }
  // Blocks of a matvec-family kernel per SM its shared memory allows, at most cap.
  int64_t ring_blocks(int ring, unsigned act, int64_t cap) const {
    return std::min<int64_t>(cap, o_.smem_per_sm / (kWarps * ring + act + 1024));
  }
  // The most rows (or pairs) a warp takes when `blocks` blocks per SM run them.
  int64_t most_items(int64_t rows, int64_t blocks) const {
    const int64_t warps = std::max<int64_t>(1, blocks * o_.sms * kWarps);
    return (rows + warps - 1) / warps;
  }
  // Kernel names tell the other rings' instances apart.
  static std::string ring_suffix(int ring) {
    return ring == kRingBytes ? "" : ring == kRingSmall ? "_ring4k" : fmt::format("_ring{}", ring);
  }

  void check_k(int64_t k, const std::vector<ir::ValueId>& ws) const {
    for (ir::ValueId w : ws) {
      const auto& d = g_.type(w).shape.dims;
      if (d.size() != 2 || d[0] != k)
        unsupported(fmt::format("weights %{} do not have {} columns", g_.value(w).name, k));
      if (k % static_cast<int64_t>(info(type(w)).block_elems) != 0 || k % 32 != 0)
        unsupported(fmt::format("{} columns are not whole {} blocks", k, name(type(w))));
    }
  }

  // matvec, qkv, lm_head and their rmsnorm_* forms, matvec_add.
  // The LM head's input is quantized finely (kInF32Fine): its error reaches the logits.
  // `x_row`: the input is not o[0] but a scratch f32 row of its length (the last token's
  // row of a T-token step's LM head).
  void matvec(const ir::Brick& b, bool norm, int n_mats, bool residual,
              std::optional<size_t> x_row = {}) {
    const bool fine = b.kind == BrickKind::LmHead || b.kind == BrickKind::RmsnormLmHead;
    const auto& o = b.operands;
    const ir::ValueId x = o[0];
    const size_t w0 = norm ? 2 : 1;
    std::vector<ir::ValueId> ws(o.begin() + static_cast<long>(w0),
                                o.begin() + static_cast<long>(w0 + n_mats));
    const int64_t k = len(x);
    check_k(k, ws);
    const bool int8 = int8_format(type(ws[0]));
    check_q8_groups(k, int8);
    // The kernel deals the rows of its matrices to its warps in passes, in the order the
    // matrices come: the heaviest rows first, so that the warps that take one of them take
    // one in the first pass, and a later pass (which runs the other way, matvec.cuh) falls
    // to warps whose first rows were light. A qkv whose v is Q6_K (two segments a row,
    // after q and k) gave some warps of the 7B three segments, where two now suffice.
    std::vector<size_t> order(static_cast<size_t>(n_mats));
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t c) {
      return gpu_row_stride(type(ws[a]), k) > gpu_row_stride(type(ws[c]), k);
    });
    std::string fmts, stem = std::string(ir::keyword(b.kind));
    for (int m = 0; m < 3; ++m) {
      const ir::ValueId w = ws[order[static_cast<size_t>(std::min(m, n_mats - 1))]];
      if (int8_format(type(w)) != int8) unsupported("integer and float weights mixed in one brick");
      fmts += ", " + weight_format(w);
      if (m < n_mats) stem += "_" + std::string(name(type(w)));
    }
    stem += fmt::format("_k{}", k);
    std::vector<Arg> args = {x_row ? scratch(*x_row) : value(x), norm ? value(o[1]) : null(),
                             f32(norm ? b.float_attr("eps") : 0.0f),
                             residual ? value(o[2]) : null(), trace()};
    int64_t rows = 0;
    for (size_t m : order) {
      const ir::ValueId w = ws[m];
      const size_t bias_at = w0 + static_cast<size_t>(n_mats) + m;
      const bool has_bias = !residual && bias_at < o.size();
      const int64_t n = g_.type(w).shape.dims[1];
      const ir::TensorType& rt = g_.type(b.results[m]);
      if (rt.shape != ir::Shape{{n}} || rt.elem != DType::F32)
        unsupported("a result that is not f32 with one value per weight row");
      args.insert(args.end(), {value(w), integer(static_cast<int64_t>(gpu_row_stride(type(w), k))),
                               integer(n), has_bias ? value(o[bias_at]) : null(),
                               value(b.results[m])});
      rows += n;
    }
    const unsigned act = act_smem(k, int8, fine && type(x) == DType::F32);
    const auto [ring, min_blocks] = ring_for(rows, act, false);
    // Rows in pairs (kernels/matvec.cuh) where every warp gets at least two pairs even at
    // the most blocks per SM, so that halving the items costs no parallelism: the LM head.
    const bool paired = n_mats == 1 && rows % 2 == 0 && rows / 2 >= 2 * kMatvecBlocks * o_.sms * kWarps;
    const std::string call =
        fmt::format("matvec<{}, {}, {}, {}, {}, {}{}>", k, input_kind(x, norm, int8, fine),
                    residual ? "kAddResidual" : "kStore", n_mats, paired, ring, fmts);
    Launch& l = launch(kernel(stem + ring_suffix(ring), call, kThreads, min_blocks), std::move(args));
    l.work_blocks = (rows + kWarps - 1) / kWarps;
    l.smem = kWarps * ring + act;
  }

  void gate_up(const ir::Brick& b, bool norm) {
    const auto& o = b.operands;
    const ir::ValueId x = o[0], wg = o[norm ? 2 : 1], wu = o[norm ? 3 : 2], out = b.results[0];
    const int64_t k = len(x), rows = g_.type(wg).shape.dims[1];
    check_k(k, {wg, wu});
    const bool int8 = int8_format(type(wg));
    check_q8_groups(k, int8);
    if (int8_format(type(wu)) != int8) unsupported("integer and float weights mixed in one brick");
    const bool q8 = type(out) == DType::Q8_1;
    if (q8 && rows % 32 != 0) unsupported("a q8_1 result whose length is not a multiple of 32");
    const unsigned act = act_smem(k, int8, false);
    // Gate/up over 32-weight integer blocks fits the dense ring's 40 registers without
    // spills (ptxas: 39-40 for q4_0 .. q8_0); the K-quants' kernels need up to 64.
    const bool dense = int8 && info(type(wg)).block_elems == 32 && info(type(wu)).block_elems == 32;
    const bool pairs = int8 && type(wg) == type(wu);  // kernels/matvec.cuh: gate_up_swiglu's kPaired
    const auto [ring, min_blocks] =
        ring_for(rows, act, dense, pairs ? static_cast<int64_t>(gpu_row_stride(type(wg), k)) : 0);
    const std::string call = fmt::format("gate_up_swiglu<{}, {}, {}, {}, {}, {}>", k,
                                         input_kind(x, norm, int8, false), q8 ? "true" : "false",
                                         ring, weight_format(wg), weight_format(wu));
    const std::string stem = fmt::format("{}_{}_{}_k{}{}", ir::keyword(b.kind), name(type(wg)),
                                         name(type(wu)), k, ring_suffix(ring));
    const std::string res = g_.value(out).name;
    const size_t h = add_scratch(static_cast<uint64_t>(rows) * 4, "SwiGLU rows of %" + res, false);
    const size_t c = add_scratch(static_cast<uint64_t>(rows / 32 + 1) * 4,
                                 "SwiGLU group counters of %" + res, true);
    Launch& l = launch(
        kernel(stem, call, kThreads, min_blocks),
        {value(x), norm ? value(o[1]) : null(), f32(norm ? b.float_attr("eps") : 0.0f), trace(),
         value(wg), integer(static_cast<int64_t>(gpu_row_stride(type(wg), k))), value(wu),
         integer(static_cast<int64_t>(gpu_row_stride(type(wu), k))), integer(rows), value(out),
         q8 ? scratch(h) : null(), q8 ? scratch(c) : null()});
    l.work_blocks = (rows + kWarps - 1) / kWarps;
    l.smem = kWarps * ring + act;
  }

  void rope_append(const ir::Brick& b, bool rope, bool append) {
    const bool rows = g_.n_tokens > 1;  // kernels/rows.cuh: one block per token
    const auto& o = b.operands;
    // rope: (x, pos); kv_append: (k, v, pos, kc, vc); rope_kv_append: (q, k, v, pos, kc, vc)
    ir::ValueId q, k, v, cache_k, cache_v, out;
    int64_t hd = 0;
    bool q8 = false;
    float theta = 0.0f;
    if (rope) theta = b.float_attr("theta");
    if (rope && !append) {
      q = o[0];
      out = b.results[0];
      hd = b.int_attr("head_dim");
    } else {
      const size_t c = rope ? 4 : 3;
      cache_k = o[c];
      cache_v = o[c + 1];
      hd = g_.type(cache_k).shape.dims[0];
      q8 = q8_cache(cache_k, cache_v);
      k = o[rope ? 1 : 0];
      v = o[rope ? 2 : 1];
      if (rope) {
        q = o[0];
        out = b.results[0];
      }
    }
    const int64_t nq = rope ? len(q) / hd : 0;
    const int64_t nkv = append ? g_.type(cache_k).shape.dims[1] : 0;
    for (ir::ValueId in : {q, k, v})
      if (in.index != UINT32_MAX && type(in) != DType::F32) unsupported("an input that is not f32");
    const std::string call =
        fmt::format("rope_kv_append{}<{}, {}, {}, {}, {}, {}>", rows ? "_rows" : "", hd, nq, nkv,
                    rope ? "true" : "false", append ? "true" : "false", q8);
    const std::string stem = fmt::format("{}{}_hd{}_q{}_kv{}{}", ir::keyword(b.kind), rows ? "_rows" : "",
                                         hd, nq, nkv, q8 ? "_q8cache" : "");
    auto val = [&](ir::ValueId x) { return x.index == UINT32_MAX ? null() : value(x); };
    // Decode spreads one item (a pair of values) per thread over the grid
    // (rope_kv_append.cuh: kRopeItems); T tokens take a block each.
    const int64_t items = (nq + (append ? 2 * nkv : 0)) * (hd / 2);
    std::vector<Arg> args = {val(q), val(k), val(v), step(), val(out), val(cache_k),
                             val(cache_v), f32(rope ? ir::rope_theta_scale(theta, hd) : 0.0f),
                             trace()};
    // A batch over several sequences: each token's position and sequence from %pos, %seq.
    if (rows && seq_) {
      const size_t seq_at = rope ? 6 : 5;
      if (append && (o.size() <= seq_at || o[seq_at] != *seq_))
        unsupported("a cache append of a batch step without its %seq operand");
      args.insert(args.end(), {value(o[rope && append ? 3 : append ? 2 : 1]),
                               append ? value(*seq_) : null(),
                               integer(append ? seq_bytes(cache_k) : 0)});
    }
    launch(kernel(stem, call), std::move(args)).grid = {
        static_cast<unsigned>(rows ? g_.n_tokens : (items + kThreads - 1) / kThreads), 1};
  }

  // Bytes of one sequence's part of a batch cache [head_dim, n_kv, ctx, n_seq].
  int64_t seq_bytes(ir::ValueId cache) const {
    const auto& d = g_.type(cache).shape.dims;
    return d[2] * static_cast<int64_t>(gpu_cache_position_bytes(type(cache), d[0] * d[1]));
  }

  // Whether the caches k and v hold q8_0 (else f16; kernels/kv_cache.cuh): the GPU's
  // kernels take one type for both.
  bool q8_cache(ir::ValueId k, ir::ValueId v) const {
    if (type(k) != type(v))
      unsupported(fmt::format("K and V caches of different types (k {}, v {}); the CPU holds them "
                              "(--device cpu)", name(type(k)), name(type(v))));
    if (type(k) != DType::F16 && type(k) != DType::Q8_0)
      unsupported(fmt::format("a KV cache of {} (f16 or q8_0)", name(type(k))));
    const int64_t hd = g_.type(k).shape.dims[0];
    if (type(k) == DType::Q8_0 && hd != 64 && hd != 128)
      unsupported(fmt::format("a q8_0 cache of head_dim {} (64 or 128)", hd));
    return type(k) == DType::Q8_0;
  }

  // Decode attention (attention.cuh): `attention` for one token, or with `batch`
  // `batch_attention`, per token over its own sequence's cache (%seq); (KV head, split)
  // blocks for each of the step's tokens. Its kernels take 16-byte pieces of a head that
  // tile a warp, at most 8 query heads per KV head (the columns of the P^T fragment of an
  // MMA) and 1,024 query values (the merge's shared memory).
  void decode_attention(const ir::Brick& b, bool batch) {
    const auto& o = b.operands;
    const auto& d = g_.type(o[1]).shape.dims;  // [head_dim, n_kv_heads, ctx(, n_seq)]
    const int64_t hd = d[0], nkv = d[1], nq = len(o[0]) / hd, t = batch ? g_.n_tokens : 1;
    const int64_t s = attention_splits(nkv, o_.sms);
    if (hd % 8 != 0 || hd < 32 || 32 % (hd / 8) != 0) unsupported(fmt::format("head_dim {}", hd));
    if (nq % nkv != 0) unsupported("query heads not a multiple of KV heads");
    if (nq / nkv > 8) unsupported(fmt::format("{} query heads per KV head (at most 8)", nq / nkv));
    if (nq / nkv * hd > 1024) unsupported("more than 1024 query values per KV head");
    const bool q8 = q8_cache(o[1], o[2]);
    if (batch && (o.size() < 5 || o[4] != *seq_)) unsupported("batch attention without its %seq operand");
    const std::string res = g_.value(b.results[0]).name;
    const size_t parts = add_scratch(static_cast<uint64_t>(t * attention_part_floats(nq, s, hd)) * 4,
                                     "attention partials of %" + res, false);
    const size_t counters = add_scratch(static_cast<uint64_t>(t * attention_counters(nkv, s)) * 4,
                                        "attention split counters of %" + res, true);
    std::vector<Arg> args = {value(o[0]), value(o[1]), value(o[2]), step(), scratch(parts),
                             value(b.results[0]), scratch(counters), trace()};
    if (batch) args.insert(args.end(), {value(o[3]), value(*seq_), integer(seq_bytes(o[1]))});
    // One token's output may be q8_1 (quantize-activations), quantized as it is stored.
    const bool out_q8 = type(b.results[0]) == DType::Q8_1;
    if (out_q8 && batch) unsupported("a q8_1 result of batch attention");
    const std::string name = fmt::format("{}_hd{}_q{}_kv{}{}{}", batch ? "batch_attention" : "attention",
                                         hd, nq, nkv, q8 ? "_q8cache" : "", out_q8 ? "_outq8" : "");
    const std::string call = batch ? fmt::format("batch_attention<{}, {}, {}, {}, {}>", hd, nq, nkv, s, q8)
                                   : fmt::format("attention<{}, {}, {}, {}, {}, {}>", hd, nq, nkv, s, q8, out_q8);
    // Registers for two blocks per SM: a batch's grid of every token's splits, and the
    // megakernel's blocks, which run attention as a task.
    Launch& l = launch(kernel(name, call, kThreads, 2), std::move(args));
    l.grid = {static_cast<unsigned>(nkv), static_cast<unsigned>(s * t)};
    l.smem = attention_smem(hd, q8);
    // One token's blocks run one an SM (attention_splits).
    if (!batch) l.smem_alone = o_.smem_per_sm / 2 + 16;
  }

  // --- T-token steps: every kernel handles step->n_tokens <= T rows (kernels/gemm.cuh,
  // flash_attention.cuh, rows.cuh) ---

  // A scratch buffer that the T-token kernels of every brick share (the stream runs them
  // one after another), grown to the largest use.
  size_t shared_scratch(std::optional<size_t>& slot, uint64_t bytes, std::string what, bool zeroed = false) {
    if (!slot) slot = add_scratch(bytes, std::move(what), zeroed);
    plan_.scratch[*slot].bytes = std::max(plan_.scratch[*slot].bytes, bytes);
    return *slot;
  }

  // Matrix products over T tokens: x (f32 rows, normalized first with `norm`) converted to
  // f16 once, then per weight matrix: its f16 copy (dequantized into a shared scratch; f16
  // weights are used in place) and a tensor-core GEMM whose epilogue adds the bias, adds
  // `aux` (kEpiResidual) or applies SwiGLU with `aux` as the gate (kEpiSwiglu).
  // `prep` false: x's f16 rows are already in the scratch (the up product after the gate's).
  void gemm(const ir::Brick& b, bool norm, const std::vector<ir::ValueId>& ws,
            const std::vector<Arg>& outs, const std::vector<Arg>& biases, int epi, Arg aux,
            bool prep = true) {
    const ir::ValueId x = b.operands[0];
    const int64_t k = len(x), t = g_.n_tokens;
    check_k(k, ws);
    if (type(x) != DType::F32) unsupported(fmt::format("a T-token input of type {}", name(type(x))));
    const size_t xh = shared_scratch(xh_, static_cast<uint64_t>(t * k) * 2,
                                     "f16 activations of T-token matrix products");
    if (prep)
      launch(kernel(fmt::format("prefill_prep_k{}{}", k, norm ? "_norm" : ""),
                    fmt::format("prefill_prep<{}, {}>", k, norm ? "true" : "false")),
             {value(x), norm ? value(b.operands[1]) : null(),
              f32(norm ? b.float_attr("eps") : 0.0f), scratch(xh), step(), trace()})
          .grid = {static_cast<unsigned>(t), static_cast<unsigned>((k + kPrepChunk - 1) / kPrepChunk)};
    for (ir::ValueId w : ws)
      if (g_.type(w).shape.dims[1] % kGemmTileN != 0)
        unsupported(fmt::format("weights %{} have {} rows, not a multiple of {}", g_.value(w).name,
                                g_.type(w).shape.dims[1], kGemmTileN));
    if (t <= kDqTokens && k % 64 == 0) {  // gemm_dq takes sub-blocks in pairs
      // Consecutive matrices of one format share a launch.
      for (size_t m0 = 0; m0 < ws.size();) {
        size_t m1 = m0 + 1;
        while (m1 < ws.size() && type(ws[m1]) == type(ws[m0])) ++m1;
        gemm_dq(std::span(ws).subspan(m0, m1 - m0), k, epi, std::span(outs).subspan(m0, m1 - m0),
                std::span(biases).subspan(m0, m1 - m0), aux, xh);
        m0 = m1;
      }
      return;
    }
    for (size_t m = 0; m < ws.size(); ++m) {
      const ir::ValueId w = ws[m];
      const int64_t n = g_.type(w).shape.dims[1];
      Arg wh = value(w);
      if (type(w) != DType::F16) {
        const size_t s = shared_scratch(wh_, static_cast<uint64_t>(n * k) * 2,
                                        "f16 weights of T-token matrix products");
        Launch& d = launch(kernel(fmt::format("dequant_f16_{}_k{}", name(type(w)), k),
                                  fmt::format("dequant_f16<{}, {}>", k, weight_format(w))),
                           {value(w), integer(static_cast<int64_t>(gpu_row_stride(type(w), k))),
                            integer(n), scratch(s), trace()});
        d.work_blocks = (n * k / 8 + 255) / 256;
        wh = scratch(s);
      }
      Launch& l = launch(kernel(fmt::format("gemm_f16_k{}_e{}", k, epi),
                                fmt::format("gemm_f16<{}, {}>", k, epi), kGemmThreads),
                         {scratch(xh), wh, integer(n), outs[m], biases[m], aux, step(), trace()});
      l.grid = {static_cast<unsigned>((t + kGemmTileM - 1) / kGemmTileM),
                static_cast<unsigned>(n / kGemmTileN)};
      l.block = kGemmThreads;
      l.smem = kGemmSmem;
    }
  }

  // One weight matrix of a step of few tokens (kernels/gemm.cuh: gemm_dq): dequantized in
  // the GEMM, split over K into S parts, the parts then added in order. S is chosen for the
  // least time in waves of resident blocks (kDqBlocksPerSm per SM): ceil(blocks S / slots)
  // waves, each as long as a block's share of K's 256-value units plus kDqBlockCost for its
  // start, first loads and partial sums. Few rows want many splits to fill the SMs (the
  // 7B's down product: 28 row blocks, 9 splits); among equal costs the fewest. On the H200
  // (7B Q4_K_M, 16-token steps) this gave 3,067 tok/s, against 2,603 with waves of 1/S of
  // a block plus 3 % per split, and 2,294 with each SM's blocks counted as one wave.
  static int64_t dq_splits(int64_t blocks, int64_t k, int64_t slots) {
    const int64_t units = (k + 255) / 256;
    int64_t best = 1;
    double best_cost = 1e30;
    for (int64_t s = 1; s <= units; ++s) {
      const double cost = static_cast<double>((blocks * s + slots - 1) / slots) *
                          (static_cast<double>((units + s - 1) / s) + kDqBlockCost);
      if (cost < best_cost - 1e-9) best = s, best_cost = cost;
    }
    return best;
  }

  // Matrices ws (one format, at most three) against the same f16 rows xh in one launch.
  void gemm_dq(std::span<const ir::ValueId> ws, int64_t k, int epi, std::span<const Arg> outs,
               std::span<const Arg> biases, Arg aux, size_t xh) {
    if (ws.size() > 3) unsupported("more than three matrices in one few-token product");  // slots
    int64_t rows = 0;
    for (ir::ValueId w : ws) rows += g_.type(w).shape.dims[1];
    const int64_t blocks = rows / kDqRows;
    const int64_t s = dq_splits(blocks, k, kDqBlocksPerSm * static_cast<int64_t>(o_.sms));
    std::optional<size_t> part, counters;
    if (s > 1) {
      part = shared_scratch(dq_part_, static_cast<uint64_t>(s * g_.n_tokens * rows) * 4,
                            "split-K partial sums of few-token matrix products");
      counters = shared_scratch(dq_counters_, static_cast<uint64_t>(blocks) * 4,
                                "split-K arrival counters of few-token matrix products", true);
    }
    auto matrix = [&](size_t m) -> std::array<Arg, 5> {
      if (m >= ws.size()) return {null(), integer(0), integer(0), null(), null()};
      return {value(ws[m]), integer(static_cast<int64_t>(gpu_row_stride(type(ws[m]), k))),
              integer(g_.type(ws[m]).shape.dims[1]), outs[m], biases[m]};
    };
    const auto w0 = matrix(0), w1 = matrix(1), w2 = matrix(2);
    Launch& l = launch(
        kernel(fmt::format("gemm_dq_{}_k{}_e{}", name(type(ws[0])), k, epi),
               fmt::format("gemm_dq<{}, {}, {}>", k, weight_format(ws[0]), epi), 256, kDqBlocksPerSm),
        {scratch(xh), w0[0], w0[1], w0[2], w0[3], w0[4], aux, step(), trace(),
         part ? scratch(*part) : null(), counters ? scratch(*counters) : null(),
         w1[0], w1[1], w1[2], w1[3], w1[4], w2[0], w2[1], w2[2], w2[3], w2[4]});
    l.grid = {static_cast<unsigned>(blocks), static_cast<unsigned>(s)};
    l.smem = kDqSmem;
  }

  void gemm_brick(const ir::Brick& b, bool norm, int n_mats, size_t w0) {
    const auto& o = b.operands;
    std::vector<ir::ValueId> ws;
    std::vector<Arg> outs, biases;
    for (int m = 0; m < n_mats; ++m) {
      ws.push_back(o[w0 + static_cast<size_t>(m)]);
      outs.push_back(value(b.results[static_cast<size_t>(m)]));
      const size_t bias_at = w0 + static_cast<size_t>(n_mats + m);
      biases.push_back(bias_at < o.size() ? value(o[bias_at]) : null());
    }
    gemm(b, norm, ws, outs, biases, 0, null());
  }

  // The LM head of a T-token step: every row's logits as a GEMM, or the last token's alone
  // through the decode matvec kernel on a copy of that row.
  void lm_head_tokens(const ir::Brick& b, bool norm) {
    const ir::ValueId r = b.results[0];
    if (g_.type(r).shape.rows() > 1) {
      gemm_brick(b, norm, 1, norm ? 2 : 1);
      if (!seq_) return;
      const int64_t v = len(r);
      plan_.row_argmax = add_scratch(static_cast<uint64_t>(g_.n_tokens) * 4,
                                     "each row's argmax of %" + g_.value(r).name, false);
      launch(kernel(fmt::format("argmax_rows_n{}", v), fmt::format("argmax_rows<{}>", v)),
             {value(r), scratch(*plan_.row_argmax), step(), trace()})
          .grid = {static_cast<unsigned>(g_.n_tokens), 1};
      return;
    }
    const ir::ValueId x = b.operands[0];
    const size_t row = add_scratch(static_cast<uint64_t>(len(x)) * 4,
                                   "last token's row of %" + g_.value(x).name, false);
    launch(kernel(fmt::format("last_row_k{}", len(x)), fmt::format("last_row<{}>", len(x))),
           {value(x), step(), scratch(row), trace()});
    matvec(b, norm, 1, false, row);
  }

  // False for kinds lowered alike at any T (argmax reads the one row of logits).
  bool lower_tokens(const ir::Brick& b) {
    const auto& o = b.operands;
    const ir::ValueId r = b.results[0];
    const int64_t t = g_.n_tokens;
    switch (b.kind) {
      case BrickKind::Embed: {
        const ir::ValueId tab = o[1];
        const int64_t k = g_.type(tab).shape.ne0();
        launch(kernel(fmt::format("embed_rows_{}_k{}", name(type(tab)), k),
                      fmt::format("embed_rows<{}, {}>", k, weight_format(tab))),
               {value(tab), integer(static_cast<int64_t>(gpu_row_stride(type(tab), k))), value(o[0]),
                value(r), step(), trace()})
            .grid = {static_cast<unsigned>(t), 1};
        return true;
      }
      case BrickKind::Matvec: gemm_brick(b, false, 1, 1); return true;
      case BrickKind::Qkv: gemm_brick(b, false, 3, 1); return true;
      case BrickKind::RmsnormMatvec: gemm_brick(b, true, 1, 2); return true;
      case BrickKind::RmsnormQkv: gemm_brick(b, true, 3, 2); return true;
      case BrickKind::MatvecAdd:
        gemm(b, false, {o[1]}, {value(r)}, {null()}, 1, value(o[2]));
        return true;
      case BrickKind::GateUpSwiglu:
      case BrickKind::RmsnormGateUpSwiglu: {
        const bool norm = b.kind == BrickKind::RmsnormGateUpSwiglu;
        const ir::ValueId wg = o[norm ? 2 : 1], wu = o[norm ? 3 : 2];
        if (type(r) != DType::F32) unsupported("a T-token SwiGLU result that is not f32");
        const size_t gate = shared_scratch(
            gate_, static_cast<uint64_t>(t * g_.type(wg).shape.dims[1]) * 4,
            "gate rows of T-token SwiGLU");
        // The gate product first, then the up product whose epilogue applies SwiGLU.
        gemm(b, norm, {wg}, {scratch(gate)}, {null()}, 0, null());
        gemm(b, norm, {wu}, {value(r)}, {null()}, 2, scratch(gate), false);
        return true;
      }
      case BrickKind::LmHead: lm_head_tokens(b, false); return true;
      case BrickKind::RmsnormLmHead: lm_head_tokens(b, true); return true;
      case BrickKind::Rope: rope_append(b, true, false); return true;
      case BrickKind::KvAppend: rope_append(b, false, true); return true;
      case BrickKind::RopeKvAppend: rope_append(b, true, true); return true;
      case BrickKind::Attention: {
        const auto& d = g_.type(o[1]).shape.dims;  // [head_dim, n_kv_heads, ctx]
        const int64_t hd = d[0], nkv = d[1], nq = len(o[0]) / hd;
        if (hd != 64 && hd != 128) unsupported(fmt::format("head_dim {} (T-token steps: 64, 128)", hd));
        if (nq % nkv != 0) unsupported("query heads not a multiple of KV heads");
        const bool q8 = q8_cache(o[1], o[2]);
        if (seq_) {
          decode_attention(b, true);
          return true;
        }
        Launch& l = launch(kernel(fmt::format("flash_attention_hd{}_q{}_kv{}{}", hd, nq, nkv, q8 ? "_q8cache" : ""),
                                  fmt::format("flash_attention<{}, {}, {}, {}>", hd, nq, nkv, q8), kFlashThreads),
                           {value(o[0]), value(o[1]), value(o[2]), step(), value(r), trace()});
        l.grid = {static_cast<unsigned>(nq), static_cast<unsigned>((t + kFlashTileQ - 1) / kFlashTileQ)};
        l.block = kFlashThreads;
        l.smem = flash_smem(hd, q8);
        return true;
      }
      case BrickKind::Rmsnorm:
      case BrickKind::Swiglu:
      case BrickKind::Add: {
        // Unfused graphs: a row kernel per token; f32 results only (quantize-activations
        // leaves T-token graphs in f32).
        if (type(r) != DType::F32) unsupported("a T-token result that is not f32");
        const int64_t k = len(r);
        const std::string kw(ir::keyword(b.kind));
        std::vector<Arg> args = {value(o[0]), value(o[1])};
        if (b.kind == BrickKind::Rmsnorm) args.insert(args.end(), {f32(b.float_attr("eps"))});
        args.insert(args.end(), {value(r), step(), trace()});
        launch(kernel(fmt::format("{}_rows_k{}", kw, k), fmt::format("{}_rows<{}>", kw, k)),
               std::move(args))
            .grid = {static_cast<unsigned>(t), 1};
        return true;
      }
      case BrickKind::Argmax:
        return false;
    }
    return false;
  }

  Launch& vector_kernel(const std::string& stem, const std::string& call, std::vector<Arg> args) {
    return launch(kernel(stem, call), std::move(args));
  }

  void lower(const ir::Brick& b) {
    if (g_.n_tokens > 1 && lower_tokens(b)) return;
    const auto& o = b.operands;
    const ir::ValueId r = b.results[0];
    const std::string kw(ir::keyword(b.kind));
    switch (b.kind) {
      case BrickKind::Embed: {
        const ir::ValueId t = o[1];
        const int64_t k = g_.type(t).shape.ne0();
        vector_kernel(fmt::format("embed_{}_k{}", name(type(t)), k),
                      fmt::format("embed<{}, {}>", k, weight_format(t)),
                      {value(t), integer(static_cast<int64_t>(gpu_row_stride(type(t), k))), step(),
                       value(r), trace()})
            .grid = {static_cast<unsigned>((k + kThreads - 1) / kThreads), 1};
        return;
      }
      case BrickKind::Rmsnorm: {
        const bool q8 = type(r) == DType::Q8_1;
        vector_kernel(fmt::format("rmsnorm_k{}{}", len(r), q8 ? "_q8" : ""),
                      fmt::format("rmsnorm<{}, {}>", len(r), q8),
                      {value(o[0]), value(o[1]), f32(b.float_attr("eps")), value(r), trace()});
        return;
      }
      case BrickKind::Swiglu: {
        const bool q8 = type(r) == DType::Q8_1;
        vector_kernel(fmt::format("swiglu_k{}{}", len(r), q8 ? "_q8" : ""),
                      fmt::format("swiglu<{}, {}>", len(r), q8),
                      {value(o[0]), value(o[1]), value(r), trace()});
        return;
      }
      case BrickKind::Add:
        vector_kernel(fmt::format("add_k{}", len(r)), fmt::format("add<{}>", len(r)),
                      {value(o[0]), value(o[1]), value(r), trace()});
        return;
      case BrickKind::Matvec: return matvec(b, false, 1, false);
      case BrickKind::LmHead: return matvec(b, false, 1, false);
      case BrickKind::Qkv: return matvec(b, false, 3, false);
      case BrickKind::RmsnormMatvec: return matvec(b, true, 1, false);
      case BrickKind::RmsnormLmHead: return matvec(b, true, 1, false);
      case BrickKind::RmsnormQkv: return matvec(b, true, 3, false);
      case BrickKind::MatvecAdd: return matvec(b, false, 1, true);
      case BrickKind::GateUpSwiglu: return gate_up(b, false);
      case BrickKind::RmsnormGateUpSwiglu: return gate_up(b, true);
      case BrickKind::Rope: return rope_append(b, true, false);
      case BrickKind::KvAppend: return rope_append(b, false, true);
      case BrickKind::RopeKvAppend: return rope_append(b, true, true);
      case BrickKind::Attention: return decode_attention(b, false);
      case BrickKind::Argmax: {
        const int64_t n = len(o[0]);
        Launch& l = launch(kernel(fmt::format("argmax_n{}", n), fmt::format("argmax<{}>", n)),
                           {value(o[0]), value(r), trace()});
        l.work_blocks = (n + 255) / 256;
        l.zero_before = {r};
        return;
      }
    }
    unsupported("unknown brick kind");
  }

  void plant_fault(const ir::Brick& b) {
    const ir::ValueId r = b.results[0];
    const auto& d = g_.type(r).shape.dims;
    int elem = 0;
    switch (type(r)) {
      case DType::F32: elem = 0; break;
      case DType::F16: elem = 1; break;
      case DType::Q8_1: elem = 2; break;
      case DType::I32: elem = 3; break;
      default: unsupported("no planted fault for this result type");
    }
    // kernels/plant_fault.cuh's slot 2: a KV cache [head_dim, n_kv, ctx]: a position's
    // elements; q8_1: the element count, where the scales start.
    const int64_t at = d.size() == 3 ? d[0] * d[1] : elem == 2 ? len(r) : 0;
    launch(kernel("plant_fault_" + std::to_string(elem), fmt::format("plant_fault<{}>", elem)),
           {value(r), step(), integer(at), trace()});
  }

  const ir::Graph& g_;
  const LowerOptions& o_;
  KernelPlan plan_;
  size_t brick_ = 0;
  std::map<std::string, size_t> by_call_;
  std::set<std::string> names_;
  std::optional<size_t> xh_, wh_, gate_, dq_part_, dq_counters_;  // scratch shared by the T-token GEMMs
  std::optional<ir::ValueId> seq_;         // %seq: a step over several sequences
};

}  // namespace

KernelPlan lower(const ir::Graph& g, const LowerOptions& o) {
  // Steps over several sequences run the T-token kernels, with positions per token.
  if (g.find("seq") && (g.n_tokens < 2 || o.megakernel))
    fail("graph @{}: a step over several sequences (%seq) is lowered for T-token steps of "
         "per-brick kernels only; this one has {} token{}{}", g.name, g.n_tokens,
         g.n_tokens == 1 ? "" : "s", o.megakernel ? " and asks for the megakernel" : "");
  KernelPlan plan = Lowering(g, o).run();
  if (o.megakernel) add_megakernel(g, plan);
  return plan;
}

uint64_t gpu_row_stride(DType t, int64_t ne0) {
  const auto b = row_bytes(t, static_cast<uint64_t>(ne0));
  if (!b) fail("{} columns are not whole {} blocks", ne0, name(t));
  return (*b + 15) / 16 * 16;
}

uint64_t gpu_cache_position_bytes(DType t, int64_t e) {
  const auto n = static_cast<uint64_t>(e);
  switch (t) {
    case DType::F16: return n * 2;
    case DType::Q8_0: return (n + n / 32 * 2 + 15) / 16 * 16;
    default: fail("a GPU KV cache holds f16 or q8_0 values, not {}", name(t));
  }
}

uint64_t gpu_value_bytes(const ir::Graph& g, ir::ValueId v) {
  const ir::TensorType& t = g.type(v);
  const auto n = static_cast<uint64_t>(t.shape.elements());
  // A KV cache: the state, or the result of the append that updates it (the only q8_0
  // values the GPU holds).
  if (g.value(v).kind == ir::ValueKind::State || t.elem == DType::Q8_0) {
    const auto& d = t.shape.dims;  // [head_dim, n_kv_heads, ctx(, n_seq)]
    return n / static_cast<uint64_t>(d[0] * d[1]) * gpu_cache_position_bytes(t.elem, d[0] * d[1]);
  }
  switch (t.elem) {
    case DType::Q8_1: return n + n / 32 * 8;
    // %tok/%pos of a decode step live in the step struct (a T-token step's %tok is a
    // buffer of T ids); argmax keys are u64.
    case DType::I32: return std::max<uint64_t>(8, n * 4);
    case DType::F16: return n * 2;
    default: return n * 4;
  }
}

}  // namespace brickc::ptx
