// The matvec family: y = W x for one to three weight matrices sharing the input (matvec,
// qkv, lm_head, their rmsnorm_* forms, matvec_add), and gate/up with the SwiGLU epilogue.
// Each warp owns whole rows and streams them in segments through a ring in its slice of
// shared memory (16-byte cp.async copies of the raw quant blocks), where each lane dots
// units of one or two 32-weight sub-blocks with the q8_1 activation (dp4a). Rows start
// 16-byte aligned (the runtime pads each row to a multiple of 16 bytes at upload).
#pragma once
#include "activations.cuh"
#include "quant_formats.cuh"

// Each warp streams its weights through a ring of slots in its own Ring bytes of shared
// memory (16-byte cp.async copies, bypassing registers and L1): while it computes one
// segment, the copies of the next kSlots - 1 are in flight, across row boundaries, so a
// warp keeps most of its ring in flight however short its rows are. (Rows loaded into
// registers one ahead kept one 864-byte row per warp in flight on the 1.5B, and each row
// cost a full HBM latency.) Ring is 6 KB, or 4 KB (two segments) where that fits another
// block on the SM (codegen/ptx/lower.cpp: ring_bytes).
constexpr int kSegMax = 2048;  // at most one segment's bytes, unless a whole row pairs

__host__ __device__ constexpr int gcd_c(int a, int b) { return b == 0 ? a : gcd_c(b, a % b); }
__host__ __device__ constexpr int max_c(int a, int b) { return a > b ? a : b; }

// The segments of a row of K weights of format F: the whole row, rounded up to 16 bytes
// (rows are padded to a multiple of 16 at upload), when it fits in Max bytes; else
// pieces of whole blocks and whole 16-byte chunks of at most Max bytes.
template <class F, int K, int Max>
struct RowSegs {
  static_assert(K % F::QK == 0, "K must be a whole number of blocks");
  static constexpr int kRowBlocks = K / F::QK;
  static constexpr int kPadded = (kRowBlocks * F::BB + 15) / 16 * 16;
  static constexpr int kLcm = F::BB / gcd_c(F::BB, 16) * 16;
  static constexpr int kMaxBlocks = (Max / kLcm) * (kLcm / F::BB);
  static constexpr bool kWhole = kPadded <= Max;
  static constexpr int kBlocks = kWhole ? kRowBlocks : kMaxBlocks;
  static constexpr int kBytes = kWhole ? kPadded : kMaxBlocks * F::BB;
  static constexpr bool kOk = kBlocks > 0;  // Q6_K's 1,680-byte unit may not fit in Max
  static constexpr int kCount = kOk ? (kRowBlocks + kBlocks - 1) / kBlocks : 0;
  static_assert(kBytes % 16 == 0, "segment geometry");
};

// Paired rows (WeightStream) are streamed whole where two slots of two rows fit in the
// ring (however long the rows: the lowering sizes gate/up's ring to them), else in
// segments of half kSegMax, so that a slot stays within kSegMax.
template <class F, int K, int Ring>
constexpr int pair_seg() {
  constexpr int kRow = RowSegs<F, K, kSegMax>::kPadded;
  return 4 * kRow <= Ring ? kRow : kSegMax / 2;
}
// Whether rows of F can be paired in a ring of Ring bytes: segments exist, two slots fit.
template <class F, int K, int Ring>
constexpr bool pairs_fit() {
  using S = RowSegs<F, K, pair_seg<F, K, Ring>()>;
  return S::kOk && Ring / (2 * S::kBytes) >= 2;
}

// Copies segment s of `row` to shared address dst (thread t's part of it; not committed).
template <class F, int K, int Max>
__device__ __forceinline__ void copy_segment(const u8* row, int s, u32 dst, unsigned t) {
  using R = RowSegs<F, K, Max>;
  const int start = s * R::kBytes;
  const int chunks = min(R::kBytes, R::kPadded - start) / 16;
  const int lane = t % kWarp;
#pragma unroll
  for (int u = 0; u < (R::kBytes / 16 + kWarp - 1) / kWarp; ++u) {
    const int c = lane + kWarp * u;
    if (c < chunks) cp_async16(dst + 16 * c, row + start + 16 * c, true);
  }
}

// Thread t's part of segment s of R rows (in shared memory at seg, seg + kBytes, ...)
// times the activation `act` (shared), added to acc[r]: lanes take the blocks' units
// (F::kUnitSubs sub-blocks of 32 weights) in turn, and the rows of one unit share its
// activation loads.
template <class F, int K, int Max, bool Fine, int R>
__device__ __forceinline__ void segment_dot(const u8* seg, int s, const u8* act, float (&acc)[R], unsigned t) {
  using S = RowSegs<F, K, Max>;
  constexpr int kSubs = F::QK / 32;
  constexpr int kUnits = kSubs / F::kUnitSubs;  // per block
  const int b0 = s * S::kBlocks;
  const int units = min(S::kBlocks, S::kRowBlocks - b0) * kUnits;
  float part[R];
#pragma unroll
  for (int r = 0; r < R; ++r) part[r] = 0.0f;
#pragma unroll
  for (int u = 0; u < (S::kBlocks * kUnits + kWarp - 1) / kWarp; ++u) {
    const int unit = t % kWarp + kWarp * u;
    if (unit >= units) break;
    const int b = unit / kUnits, k = unit % kUnits;
    const int a = (b0 + b) * kSubs;  // the block's first 32-value activation block
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const u8* blk = seg + r * S::kBytes + b * F::BB;
      if constexpr (F::kInt8) {
        part[r] += F::dot(blk, k, q8_act<K>(act, a));
        if constexpr (Fine)  // the residuals of the input's rounding (activations.cuh)
          part[r] += F::dot(blk, k, q8_act<K>(act + q8_smem(K), a));
      } else {
        part[r] += F::dotf(blk, k, reinterpret_cast<const float*>(act) + 32 * a);
      }
    }
  }
#pragma unroll
  for (int r = 0; r < R; ++r) acc[r] += part[r];
}

// A warp's rows of up to three matrices (formats F0..F2, K columns), streamed segment by
// segment through its ring. RowAt(i, m, rr) names the warp's i-th row (matrix m, row rr)
// and is false past the last. prime() starts the first copies (weights never wait for the
// previous kernel); run() computes every row, calling done(m, rr, sum) with the whole
// warp's sum as each row ends.
//
// Paired (two matrices of one format where pairs_fit, gate and up): the warp's i-th item
// is row rr of both (RowAt gives m = 0), a slot holds the same segment of the two rows, and
// their dots share each unit's activation loads and one reduction; done(0, rr, {sum0,
// sum1}).
template <int K, int Ring, bool Fine, bool Paired, class F0, class F1, class F2, class RowAt>
struct WeightStream {
  static constexpr int kRows = Paired ? 2 : 1;  // rows per slot
  static constexpr int kSeg = Paired ? pair_seg<F0, K, Ring>() : kSegMax;
  using S0 = RowSegs<F0, K, kSeg>;
  using S1 = RowSegs<F1, K, kSeg>;
  using S2 = RowSegs<F2, K, kSeg>;
  static constexpr int kSlot = kRows * max_c(S0::kBytes, max_c(S1::kBytes, S2::kBytes));
  static constexpr int kSlots = Ring / kSlot;
  static_assert(S0::kOk && S1::kOk && S2::kOk && kSlots >= 2, "a ring of at least two segments");
  // Matrices of one format share one inlined copy of each loop (block sizes name formats).
  static constexpr bool kOneFormat = F0::BB == F1::BB && F1::BB == F2::BB;
  static_assert(!Paired || (F0::BB == F1::BB && F0::QK == F1::QK), "paired rows of one format");

  // Where the stream is: the warp's i-th item, its segment s, matrix m and row rr; the
  // load cursor also keeps the row's address (row1: the paired row's), set once per row
  // rather than recomputed from base, stride and row for every segment.
  struct Cursor {
    int i, s, m, rr;
    bool ok;
    const u8* row;
    const u8* row1;
  };
  const u8* base0;  // per matrix: weights and row stride in bytes; apart, not arrays, so
  const u8* base1;  // that picking one by m stays in registers
  const u8* base2;
  long long stride0, stride1, stride2;
  RowAt row_at;
  u8* ring;
  u32 ring_s;  // the ring's shared-window address
  unsigned thread;
  Cursor load, comp;
  int next_slot;

  __device__ WeightStream(const u8* const (&b)[3], const long long (&st)[3], const RowAt& row_at_, u8* ring_,
                          unsigned t)
      : base0(b[0]), base1(b[1]), base2(b[2]), stride0(st[0]), stride1(st[1]), stride2(st[2]),
        row_at(row_at_), ring(ring_), ring_s(smem_addr(ring_)), thread(t) {}

  __device__ static int count(int m) {
    return kOneFormat || m == 0 ? S0::kCount : (m == 1 ? S1::kCount : S2::kCount);
  }
  template <bool Rows>
  __device__ void next_row(Cursor& c) const {
    c.ok = row_at(c.i, c.m, c.rr);
    if constexpr (Rows) {
      if (Paired || c.m == 0) c.row = base0 + c.rr * stride0;
      if (Paired) c.row1 = base1 + c.rr * stride1;
      if (!Paired && c.m == 1) c.row = base1 + c.rr * stride1;
      if (!Paired && c.m == 2) c.row = base2 + c.rr * stride2;
    }
  }
  template <bool Rows>
  __device__ void first(Cursor& c) const {
    c.i = c.s = 0;
    next_row<Rows>(c);
  }
  template <bool Rows>
  __device__ void advance(Cursor& c) const {
    if (++c.s == count(c.m)) {
      c.s = 0;
      ++c.i;
      next_row<Rows>(c);
    }
  }
  // One commit group per slot, empty past the last row, so that the wait counts stay fixed.
  __device__ void issue() {
    if (load.ok) {
      const u32 dst = ring_s + next_slot * kSlot;
      if constexpr (Paired) {
        copy_segment<F0, K, kSeg>(load.row, load.s, dst, thread);
        copy_segment<F0, K, kSeg>(load.row1, load.s, dst + S0::kBytes, thread);
      } else if (kOneFormat || load.m == 0) {
        copy_segment<F0, K, kSeg>(load.row, load.s, dst, thread);
      } else if (load.m == 1) {
        copy_segment<F1, K, kSeg>(load.row, load.s, dst, thread);
      } else {
        copy_segment<F2, K, kSeg>(load.row, load.s, dst, thread);
      }
      advance<true>(load);
    }
    cp_async_commit();
    next_slot = next_slot + 1 == kSlots ? 0 : next_slot + 1;
  }
  __device__ void prime() {
    first<true>(load);
    first<false>(comp);
    next_slot = 0;
#pragma unroll
    for (int p = 0; p + 1 < kSlots; ++p) issue();
  }
  template <class Done>
  __device__ void run(const u8* act, const Done& done) {
    float acc[kRows];
#pragma unroll
    for (int r = 0; r < kRows; ++r) acc[r] = 0.0f;
    for (int slot = 0; comp.ok; slot = slot + 1 == kSlots ? 0 : slot + 1) {
      cp_async_wait<kSlots - 2>();  // this lane's copies of the current segment landed
      __syncwarp();                 // every lane's have, and the slot refilled next is free
      issue();
      const u8* seg = ring + slot * kSlot;
      if (kOneFormat || comp.m == 0)
        segment_dot<F0, K, kSeg, Fine>(seg, comp.s, act, acc, thread);
      else if (comp.m == 1)
        segment_dot<F1, K, kSeg, Fine>(seg, comp.s, act, acc, thread);
      else
        segment_dot<F2, K, kSeg, Fine>(seg, comp.s, act, acc, thread);
      if (comp.s + 1 == count(comp.m)) {
        if constexpr (Paired)
          done(comp.m, comp.rr, warp_sum2(acc[0], acc[1], thread));
        else
          done(comp.m, comp.rr, warp_sum(acc[0]));
#pragma unroll
        for (int r = 0; r < kRows; ++r) acc[r] = 0.0f;
      }
      advance<false>(comp);
    }
  }
};

template <int K, int Ring, bool Fine, bool Paired, class F0, class F1, class F2, class RowAt>
__device__ __forceinline__ WeightStream<K, Ring, Fine, Paired, F0, F1, F2, RowAt> weight_stream(
    const u8* const (&base)[3], const long long (&stride)[3], const RowAt& row_at, u8* ring, unsigned t) {
  return WeightStream<K, Ring, Fine, Paired, F0, F1, F2, RowAt>(base, stride, row_at, ring, t);
}

enum MatvecEpilogue { kStore = 0, kAddResidual = 1 };

__device__ __forceinline__ float slot_f32(u64 v) { return __uint_as_float(static_cast<u32>(v)); }

// Argument slots (KArgs.p): 0 x, 1 norm weight, 2 eps (f32 bits), 3 residual, 4 trace,
// then per matrix m (5 + 5m ..): weights, row stride in bytes, rows, bias, y.
// Rows of all matrices form one index space dealt over every warp of the grid in passes,
// with several matrices each pass the other way round: a warp that took one of the first
// rows (the heaviest matrix's: codegen/ptx/lower.cpp orders them) takes one of the last
// of the next pass. (One matrix's rows weigh the same: its kernels keep the registers.)
// Pairs (one matrix of an even number of rows, many per warp: the LM head) where pairs_fit:
// a warp's item is rows 2p and 2p + 1, streamed as the two paired matrices of rows 2p
// (from the first row) and 2p + 1 (from the second), each with twice the row stride.
template <int K, int In, int Epi, int NM, bool Pairs, int Ring, class F0, class F1, class F2, class B>
__device__ void matvec(const KArgs& a, const B& blk) {
  static_assert(F0::kInt8 == F1::kInt8 && F1::kInt8 == F2::kInt8, "one activation kind per brick");
  static_assert(!Pairs || NM == 1, "pairs of one matrix's rows");
  constexpr bool Paired = Pairs && pairs_fit<F0, K, Ring>();
  constexpr bool kInt8 = F0::kInt8;
  extern __shared__ __align__(16) u8 smem[];
  const int lane = blk.thread % kWarp, warp = blk.thread / kWarp;
  int rows[3] = {0, 0, 0};
  const u8* base[3] = {nullptr, nullptr, nullptr};
  long long stride[3] = {0, 0, 0};
#pragma unroll
  for (int m = 0; m < NM; ++m) {
    base[m] = reinterpret_cast<const u8*>(a.p[5 + 5 * m]);
    stride[m] = static_cast<long long>(a.p[5 + 5 * m + 1]);
    rows[m] = static_cast<int>(a.p[5 + 5 * m + 2]);
  }
  if constexpr (Paired) {
    base[1] = base[0] + stride[0];
    stride[0] = stride[1] = 2 * stride[0];
  }
  const int total = Paired ? rows[0] / 2 : rows[0] + rows[1] + rows[2];
  const int first = blk.x * kWarps + warp, step = blk.nx * kWarps;
  // The warp's i-th row of the joint index space: its matrix and its row in that matrix.
  auto row_at = [&](int i, int& m, int& rr) {
    const int at = i * step + (NM > 1 && (i & 1) ? step - 1 - first : first);
    rr = at;
    m = 0;
    if (NM > 1 && rr >= rows[0]) {
      rr -= rows[0];
      m = 1;
      if (NM > 2 && rr >= rows[1]) {
        rr -= rows[1];
        m = 2;
      }
    }
    return at < total;
  };
  auto ws = weight_stream<K, Ring, is_fine(In), Paired, F0, F1, F2>(base, stride, row_at, smem + warp * Ring,
                                                                    blk.thread);
  blk.start_dependents();
  ws.prime();
  // Early loads: the norm weights before the wait; lane 0 the bias of the warp's first row
  // (a weight) before it and that row's residual (an input) after it, so that their
  // latency passes during the prologue rather than at the end of the row (most warps of
  // the smaller matrices have that row alone). They wait in shared memory, not registers,
  // for the row's end: the registers are the rows' (ptxas spilled in the K = 5120 loop).
  // Not in the LM head's (fine) kernel: it has many rows a warp, no bias or residual, and
  // no registers to hold its norm weights across the wait either.
  constexpr bool kEarly = !is_fine(In) && !Paired;
  NormWeights<K, In> nw;
  const float* norm_w = reinterpret_cast<const float*>(a.p[1]);
  if constexpr (kEarly) nw.load(norm_w, blk.thread);
  const float* resid = reinterpret_cast<const float*>(a.p[3]);
  auto bias_of = [&](int m) { return reinterpret_cast<const float*>(a.p[5 + 5 * m + 3]); };
  int m0 = 0, rr0 = 0;
  const bool pre = kEarly && lane == 0 && row_at(0, m0, rr0);
  float bias0 = 0.0f, resid0 = 0.0f;
  if (pre && bias_of(m0)) bias0 = bias_of(m0)[rr0];
  blk.wait_for_inputs();
  if constexpr (!kEarly) nw.load(norm_w, blk.thread);
  if constexpr (Epi == kAddResidual)
    if (pre) resid0 = resid[rr0];
  Trace trace(reinterpret_cast<u64*>(a.p[4]), blk);
  u8* act = smem + kWarps * Ring;
  load_activations<K, kInt8, In>(reinterpret_cast<const void*>(a.p[0]), nw, slot_f32(a.p[2]), act, blk.thread);
  trace.ready();
  // Which row they belong to waits with them: a flag or the row kept in registers
  // across the rows' loop spilled there too.
  __shared__ int4 early[kWarps];
  if (kEarly && lane == 0)
    early[warp] = make_int4(pre ? m0 : -1, rr0, __float_as_int(bias0), __float_as_int(resid0));
  auto store = [&](int m, int rr, float v) {
    const int4 e = kEarly ? early[warp] : make_int4(-1, 0, 0, 0);
    const bool first_row = e.x == m && e.y == rr;
    const float* bias = bias_of(m);
    if (bias) v += first_row ? __int_as_float(e.z) : bias[rr];
    if constexpr (Epi == kAddResidual) v = (first_row ? __int_as_float(e.w) : resid[rr]) + v;
    reinterpret_cast<float*>(a.p[5 + 5 * m + 4])[rr] = v;
  };
  if constexpr (Paired) {
    ws.run(act, [&](int, int p, float2 v) {  // lane 16 stores the second row
      if (lane % 16 == 0) store(0, 2 * p + lane / 16, lane == 0 ? v.x : v.y);
    });
  } else {
    ws.run(act, [&](int m, int rr, float v) {
      if (lane == 0) store(m, rr, v);
    });
  }
  trace.end();
}

// Argument slots: 0 x, 1 norm weight, 2 eps, 3 trace, 4 gate weights, 5 gate stride,
// 6 up weights, 7 up stride, 8 rows, 9 out (f32, or q8_1 when OutQ8), 10 f32 scratch[rows],
// 11 u32 counters[rows / 32] (zero between launches).
// With OutQ8, each finished row bumps its 32-row group's counter; the warp that finishes
// a group quantizes it from the f32 scratch and zeroes the counter for the next token.
template <int K, int In, bool OutQ8, int Ring, class FG, class FU, class B>
__device__ void gate_up_swiglu(const KArgs& a, const B& blk) {
  static_assert(FG::kInt8 == FU::kInt8, "one activation kind per brick");
  constexpr bool kInt8 = FG::kInt8;
  extern __shared__ __align__(16) u8 smem[];
  const int lane = blk.thread % kWarp, warp = blk.thread / kWarp;
  const u8* base[3] = {reinterpret_cast<const u8*>(a.p[4]), reinterpret_cast<const u8*>(a.p[6]), nullptr};
  const long long stride[3] = {static_cast<long long>(a.p[5]), static_cast<long long>(a.p[7]), 0};
  const int rows = static_cast<int>(a.p[8]);
  const int first = blk.x * kWarps + warp, step = blk.nx * kWarps;
  // The warp's i-th item: gate row rr and up row rr, paired where their formats match.
  constexpr bool kPaired = FG::BB == FU::BB && FG::QK == FU::QK && pairs_fit<FG, K, Ring>();
  auto row_at = [&](int i, int& m, int& rr) {
    m = kPaired ? 0 : i & 1;
    rr = first + (kPaired ? i : i >> 1) * step;
    return rr < rows;
  };
  auto ws = weight_stream<K, Ring, false, kPaired, FG, FU, FU>(base, stride, row_at, smem + warp * Ring,
                                                               blk.thread);
  blk.start_dependents();
  ws.prime();
  NormWeights<K, In> nw;
  nw.load(reinterpret_cast<const float*>(a.p[1]), blk.thread);
  blk.wait_for_inputs();
  Trace trace(reinterpret_cast<u64*>(a.p[3]), blk);
  u8* act = smem + kWarps * Ring;
  load_activations<K, kInt8, In>(reinterpret_cast<const void*>(a.p[0]), nw, slot_f32(a.p[2]), act, blk.thread);
  trace.ready();
  float* hbuf = reinterpret_cast<float*>(a.p[10]);
  u32* counters = reinterpret_cast<u32*>(a.p[11]);
  // With OutQ8, lane j keeps the value of the warp's j-th row (of each 32) and the warp
  // publishes them together, each lane storing its value and arriving at its group's
  // counter: the arrivals' release is one fence for the batch. A fence per row was the
  // largest stall of the 7B's gate/up kernel (ncu: 2.6 of 12.5 cycles per issue).
  float mine = 0.0f;
  int my_row = -1, batch = 0;
  auto publish = [&]() {
    u32 done = 0;
    if (my_row >= 0) {
      hbuf[my_row] = mine;
      done = arrive_acq_rel(counters + my_row / 32);
    }
    // Lanes whose arrival was their group's last: their acquire orders the whole warp's
    // loads after the barrier.
    const u32 lasts = __ballot_sync(0xffffffffu, my_row >= 0 && done == 31);
    if (lasts) __syncwarp();
    for (u32 last = lasts; last; last &= last - 1) {
      const int g0 = __shfl_sync(0xffffffffu, my_row, __ffs(last) - 1) / 32 * 32;
      const float x = __ldcg(hbuf + g0 + lane);
      void* out = reinterpret_cast<void*>(a.p[9]);
      quantize32(x, static_cast<i8*>(out) + g0 + lane, q8_ds(out, rows) + g0 / 32, blk.thread);
      if (lane == 0) counters[g0 / 32] = 0;
    }
    my_row = -1;
    batch = 0;
  };
  auto swiglu = [&](int r, float g, float v) {
    const float h = g / (1.0f + expf(-g)) * v;
    if constexpr (!OutQ8) {
      if (lane == 0) reinterpret_cast<float*>(a.p[9])[r] = h;
    } else {
      if (lane == batch) {
        mine = h;
        my_row = r;
      }
      if (++batch == kWarp) publish();
    }
  };
  if constexpr (kPaired) {
    ws.run(act, [&](int, int r, float2 gu) { swiglu(r, gu.x, gu.y); });
  } else {
    float g = 0.0f;
    ws.run(act, [&](int m, int r, float v) {
      if (m == 0)
        g = v;
      else
        swiglu(r, g, v);
    });
  }
  if constexpr (OutQ8) publish();
  trace.end();
}
