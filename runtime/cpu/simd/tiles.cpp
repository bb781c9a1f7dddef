#include "runtime/cpu/simd/tiles.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "frontend/quant/quant.h"
#include "ir/error.h"
#include "runtime/cpu/simd/q8_activations.h"
#include "runtime/cpu/simd/rows8.h"

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace brickc::cpu::simd {
namespace {

// Where one row's values go (tiles.h's TileStrip, at that row).
struct RowOut {
  int8_t* __restrict q;
  float* __restrict scale;
  float* __restrict bias;
};

// One row's blocks of format T into q (cols int8), scale (one per group) and bias (one
// per 32 columns, for formats with a minimum). A template per format, with unaliased
// pointers, so that the compiler vectorizes the quants' loops: a prompt step unpacks every
// weight once.
template <DType T>
void unpack_row(const uint8_t* __restrict w, int64_t cols, const RowOut& o) {
  int8_t* __restrict q = o.q;
  if constexpr (T == DType::Q4_K || T == DType::Q5_K) {
    constexpr bool kFive = T == DType::Q5_K;
    float* __restrict scale = o.scale;
    float* __restrict bias = o.bias;
    for (int64_t b = 0; b < cols / 256; ++b, w += kFive ? 176 : 144, q += 256) {
      uint8_t sc[8], m[8];
      quant::unpack_k_scales(w + 4, sc, m);
      const float d = quant::load_fp16(w), dmin = quant::load_fp16(w + 2);
      for (int j = 0; j < 8; ++j) {
        scale[8 * b + j] = d * sc[j];
        bias[8 * b + j] = -dmin * m[j];
      }
      const uint8_t* qh = w + 16;
      const uint8_t* qs = w + (kFive ? 48 : 16);
      for (int c = 0; c < 4; ++c)
        for (int l = 0; l < 32; ++l) {
          int lo = qs[32 * c + l] & 0x0f, hi = qs[32 * c + l] >> 4;
          if constexpr (kFive) {
            lo |= ((qh[l] >> (2 * c)) & 1) << 4;
            hi |= ((qh[l] >> (2 * c + 1)) & 1) << 4;
          }
          q[64 * c + l] = static_cast<int8_t>(lo);
          q[64 * c + 32 + l] = static_cast<int8_t>(hi);
        }
    }
  } else if constexpr (T == DType::Q6_K) {
    float* __restrict scale = o.scale;
    for (int64_t b = 0; b < cols / 256; ++b, w += 210, q += 256) {
      const float d = quant::load_fp16(w + 208);
      for (int k = 0; k < 16; ++k) scale[16 * b + k] = d * static_cast<int8_t>(w[192 + k]);
      for (int h = 0; h < 2; ++h) {
        const uint8_t* ql = w + 64 * h;
        const uint8_t* qh = w + 128 + 32 * h;
        int8_t* o = q + 128 * h;
        for (int l = 0; l < 32; ++l) {
          o[l] = static_cast<int8_t>(((ql[l] & 0x0f) | ((qh[l] & 3) << 4)) - 32);
          o[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32);
          o[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
          o[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
        }
      }
    }
  } else {  // 32-element blocks: d, [m], [qh: bit j the fifth bit of element j], qs
    float* __restrict scale = o.scale;
    float* __restrict bias = o.bias;
    constexpr bool kMin = T == DType::Q4_1 || T == DType::Q5_1;
    constexpr bool kFive = T == DType::Q5_0 || T == DType::Q5_1;
    constexpr int kOffset = kMin ? 0 : (kFive ? 16 : 8);
    constexpr uint64_t kBytes = T == DType::Q8_0 ? 34 : 2 + (kMin ? 2 : 0) + (kFive ? 4 : 0) + 16;
    for (int64_t b = 0; b < cols / 32; ++b, w += kBytes, q += 32) {
      scale[b] = quant::load_fp16(w);
      if constexpr (kMin) bias[b] = quant::load_fp16(w + 2);
      if constexpr (T == DType::Q8_0) {
        std::memcpy(q, w + 2, 32);
      } else {
        const uint8_t* qs = w + (kMin ? 4 : 2) + (kFive ? 4 : 0);
        uint32_t qh = 0;
        if constexpr (kFive) std::memcpy(&qh, w + (kMin ? 4 : 2), 4);
        // qs[j]: element j < 16 in the low nibble, j + 16 in the high one.
        for (int j = 0; j < 16; ++j) {
          q[j] = static_cast<int8_t>((qs[j] & 0x0f) + ((qh >> j) & 1) * 16 - kOffset);
          q[j + 16] = static_cast<int8_t>((qs[j] >> 4) + ((qh >> (j + 16)) & 1) * 16 - kOffset);
        }
      }
    }
  }
}

using UnpackRow = void (*)(const uint8_t*, int64_t, const RowOut&);

UnpackRow unpack_row_for(DType t) {
  switch (t) {
    case DType::Q4_0: return unpack_row<DType::Q4_0>;
    case DType::Q4_1: return unpack_row<DType::Q4_1>;
    case DType::Q5_0: return unpack_row<DType::Q5_0>;
    case DType::Q5_1: return unpack_row<DType::Q5_1>;
    case DType::Q8_0: return unpack_row<DType::Q8_0>;
    case DType::Q4_K: return unpack_row<DType::Q4_K>;
    case DType::Q5_K: return unpack_row<DType::Q5_K>;
    case DType::Q6_K: return unpack_row<DType::Q6_K>;
    default: return nullptr;
  }
}

// A group of 8 rows repacked for the dot-product kernels (rows8.h's layouts) into the same
// q, scale and bias as unpack_row gives for each GGUF row (o[r]: row r's): a prompt step of
// a repacked matrix reads the one copy that decode steps read. The layouts hold four bytes
// of each row in turn, so 16 bytes are four rows' and their quants go out 8 or 4 bytes per
// row (vector extensions: SSE2 on any x86-64).
using u8x16 = uint8_t __attribute__((vector_size(16)));

u8x16 load16(const uint8_t* p) {
  u8x16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// lo and hi hold columns c .. c + 3 and c + 4 .. c + 7 of rows 4h .. 4h + 3 (4 bytes each):
// the 8 columns of each row to o[4h + k].q + at.
void put_quads(u8x16 lo, u8x16 hi, const RowOut* o, int h, int64_t at) {
  const u8x16 rows01 = __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  const u8x16 rows23 = __builtin_shufflevector(lo, hi, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  std::memcpy(o[4 * h].q + at, &rows01, 8);
  std::memcpy(o[4 * h + 1].q + at, reinterpret_cast<const uint8_t*>(&rows01) + 8, 8);
  std::memcpy(o[4 * h + 2].q + at, &rows23, 8);
  std::memcpy(o[4 * h + 3].q + at, reinterpret_cast<const uint8_t*>(&rows23) + 8, 8);
}

template <DType T>
void unpack_rows8(const uint8_t* __restrict w, int64_t cols, const RowOut* o) {
  if constexpr (T == DType::Q4_K) {
    for (int64_t b = 0; b < cols / 256; ++b, w += kQ4KRows8Bytes) {
      for (int r = 0; r < kRows8; ++r) {
        const float d = quant::load_fp16(w + 2 * r), dmin = quant::load_fp16(w + 16 + 2 * r);
        for (int j = 0; j < 8; ++j) {
          o[r].scale[8 * b + j] = d * w[32 + 8 * j + r];
          o[r].bias[8 * b + j] = -dmin * w[96 + 8 * j + r];
        }
      }
      // Sub-block j, column quad pair p (jp = 4j + p): byte 4r + i holds columns
      // 32j + 8p + i (low nibble) and 32j + 8p + 4 + i (high) of row r.
      for (int jp = 0; jp < 32; ++jp)
        for (int h = 0; h < 2; ++h) {
          const u8x16 v = load16(w + 160 + 32 * jp + 16 * h);
          put_quads(v & 0x0f, v >> 4, o, h, 256 * b + 8 * jp);
        }
    }
  } else if constexpr (T == DType::Q6_K) {
    for (int64_t b = 0; b < cols / 256; ++b, w += kQ6KRows8Bytes) {
      for (int r = 0; r < kRows8; ++r) {
        const float d = quant::load_fp16(w + 2 * r);
        for (int j = 0; j < 16; ++j) o[r].scale[16 * b + j] = d * static_cast<int8_t>(w[16 + 8 * j + r]);
      }
      // Unit u, pair p: quads 2p and 2p + 1, whose top bits are pairs 2p % 4 and 2p % 4 + 1
      // of qh half p / 2.
      for (int u = 0; u < 8; ++u)
        for (int p = 0; p < 4; ++p)
          for (int h = 0; h < 2; ++h) {
            const u8x16 v = load16(w + 144 + 192 * u + 32 * p + 16 * h);
            const u8x16 qh = load16(w + 272 + 192 * u + 32 * (p / 2) + 16 * h);
            const int k = 2 * (p % 2);
            const u8x16 lo = (v & 0x0f) | ((qh >> (2 * k)) & 3) << 4;
            const u8x16 hi = (v >> 4) | ((qh >> (2 * k + 2)) & 3) << 4;
            put_quads(lo - 32, hi - 32, o, h, 256 * b + 32 * u + 8 * p);
          }
    }
  } else if constexpr (T == DType::Q5_0) {
    for (int64_t b = 0; b < cols / 32; ++b, w += 176) {
      for (int r = 0; r < kRows8; ++r) o[r].scale[b] = quant::load_fp16(w + 2 * r);
      // qh: bit k of byte 4r + i is the fifth bit of column 4k + i; qs as for Q4_K.
      for (int p = 0; p < 4; ++p)
        for (int h = 0; h < 2; ++h) {
          const u8x16 v = load16(w + 48 + 32 * p + 16 * h), qh = load16(w + 16 + 16 * h);
          const u8x16 lo = (v & 0x0f) | ((qh >> (2 * p)) & 1) << 4;
          const u8x16 hi = (v >> 4) | ((qh >> (2 * p + 1)) & 1) << 4;
          put_quads(lo - 16, hi - 16, o, h, 32 * b + 8 * p);
        }
    }
  } else {
    static_assert(T == DType::Q8_0);
    for (int64_t b = 0; b < cols / 32; ++b, w += 272) {
      for (int r = 0; r < kRows8; ++r) o[r].scale[b] = quant::load_fp16(w + 2 * r);
      // Quad k: byte 4r + i is column 4k + i of row r.
      for (int m = 0; m < 4; ++m)
        for (int h = 0; h < 2; ++h)
          put_quads(load16(w + 16 + 64 * m + 16 * h), load16(w + 48 + 64 * m + 16 * h), o, h,
                    32 * b + 8 * m);
    }
  }
}

using UnpackRows8 = void (*)(const uint8_t*, int64_t, const RowOut*);

UnpackRows8 unpack_rows8_for(DType t) {
  switch (t) {
    case DType::Q4_K: return unpack_rows8<DType::Q4_K>;
    case DType::Q6_K: return unpack_rows8<DType::Q6_K>;
    case DType::Q5_0: return unpack_rows8<DType::Q5_0>;
    case DType::Q8_0: return unpack_rows8<DType::Q8_0>;
    default: return nullptr;
  }
}

// A strip shaped for `weight` and `cols`: where row r's values go, and zeros for the rows
// past a matrix's end.
struct StripRows {
  TileStrip& strip;
  int64_t groups, biases;

  StripRows(DType weight, int64_t cols, TileStrip& s) : strip(s) {
    const bool has_min = weight == DType::Q4_1 || weight == DType::Q5_1 ||
                         weight == DType::Q4_K || weight == DType::Q5_K;
    strip.cols = cols;
    strip.group = weight == DType::Q6_K ? 16 : 32;
    groups = cols / strip.group;
    biases = has_min ? cols / 32 : 0;
    strip.q.resize(static_cast<size_t>(kTileRows * cols));
    strip.scale.resize(static_cast<size_t>(kTileRows * groups));
    strip.bias.resize(static_cast<size_t>(kTileRows * biases));
  }
  RowOut row(int r) const {
    return {strip.q.data() + r * strip.cols, strip.scale.data() + r * groups,
            biases ? strip.bias.data() + r * biases : nullptr};
  }
  void zero(int r) const {
    const RowOut o = row(r);
    std::fill(o.q, o.q + strip.cols, int8_t{0});
    std::fill(o.scale, o.scale + groups, 0.0f);
    if (o.bias) std::fill(o.bias, o.bias + biases, 0.0f);
  }
};

}  // namespace

void TileActivations::reset(DType act, int64_t c, int64_t n) {
  if (act != DType::Q8_0 && act != DType::Q8_K)
    fail("internal: tile activations are Q8_0 or Q8_K, not {}", name(act));
  type = act;
  cols = c;
  n_tokens = n;
  // Only the padding is zeroed (as the values of a zero row): the tokens' entries are all
  // written by put or quantize, and a prompt's activations are megabytes to clear on one
  // thread.
  q.resize(static_cast<size_t>(tiles() * cols * kTileTokens));
  d.resize(static_cast<size_t>(tiles() * groups() * kTileTokens));
  s.resize(d.size());
  const std::vector<uint8_t> zero(*row_bytes(act, static_cast<uint64_t>(cols)), 0);
  for (int64_t t = n_tokens; t < tiles() * kTileTokens; ++t) put(t, zero.data());
}

TileActivations::Slots TileActivations::slots(int64_t t) {
  const int64_t tile = t / kTileTokens, n = t % kTileTokens;
  return {q.data() + tile * cols * kTileTokens + 4 * n, d.data() + tile * groups() * kTileTokens + n,
          s.data() + tile * groups() * kTileTokens + n};
}

void TileActivations::put(int64_t t, const uint8_t* row) {
  const auto [tq, td, ts] = slots(t);
  for (int64_t g = 0; g < groups(); ++g) {
    // Q8_0: block g is f16 d, int8 qs[32]; Q8_K: block g / 8 is f32 d, int8 qs[256], sums.
    const int8_t* xq;
    float dx;
    if (type == DType::Q8_0) {
      xq = reinterpret_cast<const int8_t*>(row + 34 * g + 2);
      dx = quant::load_fp16(row + 34 * g);
    } else {
      const uint8_t* block = row + 292 * (g / 8);
      xq = reinterpret_cast<const int8_t*>(block + 4 + 32 * (g % 8));
      std::memcpy(&dx, block, sizeof dx);
    }
    for (int k = 0; k < 8; ++k) std::memcpy(tq + 64 * (8 * g + k), xq + 4 * k, 4);
    td[kTileTokens * g] = dx;
    ts[kTileTokens * g] = dx * static_cast<float>(sum32(xq));
  }
}

void TileActivations::quantize(int64_t t, const float* x) {
  thread_local std::vector<uint8_t> row;
  row.resize(*row_bytes(type, static_cast<uint64_t>(cols)));
  quantize_q8(type, x, row.data(), cols);
  put(t, row.data());
}

void unpack_strip(DType weight, const uint8_t* rows, uint64_t row_bytes, int n_rows, int64_t cols,
                  TileStrip& strip) {
  const UnpackRow unpack_row = unpack_row_for(weight);
  if (!unpack_row) fail("internal: {} has no tile strip", name(weight));
  const StripRows out(weight, cols, strip);
  for (int r = 0; r < kTileRows; ++r)
    if (r < n_rows)
      unpack_row(rows + row_bytes * static_cast<uint64_t>(r), cols, out.row(r));
    else
      out.zero(r);
}

void unpack_strip_rows8(DType weight, const uint8_t* groups, int n_rows, int64_t cols,
                        TileStrip& strip) {
  const UnpackRows8 unpack = unpack_rows8_for(weight);
  const uint64_t group_bytes = rows8_bytes(weight, kRows8, cols);
  if (!unpack || group_bytes == 0 || n_rows % kRows8 != 0)
    fail("internal: no tile strip of {} repacked rows of {} x {}", n_rows, name(weight), cols);
  const StripRows out(weight, cols, strip);
  for (int g = 0; g < n_rows / kRows8; ++g) {
    RowOut o[kRows8];
    for (int r = 0; r < kRows8; ++r) o[r] = out.row(kRows8 * g + r);
    unpack(groups + group_bytes * static_cast<uint64_t>(g), cols, o);
  }
  for (int r = n_rows; r < kTileRows; ++r) out.zero(r);
}

bool amx_usable() {
#if defined(__x86_64__) && defined(__linux__)
  // AMX-TILE and AMX-INT8 are CPUID leaf 7's EDX bits 24 and 25 (clang 14's
  // __builtin_cpu_supports has no names for them). Linux hands a process the 8 KB tile
  // state only when asked (ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA); a tile
  // instruction before that faults.
  static const bool ok = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    const bool tiles = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (d >> 24 & 1) && (d >> 25 & 1);
    constexpr long kReqXcompPerm = 0x1023, kXtiledata = 18;
    return tiles && __builtin_cpu_supports("avx512f") &&
           syscall(SYS_arch_prctl, kReqXcompPerm, kXtiledata) == 0;
  }();
  return ok;
#else
  return false;
#endif
}

}  // namespace brickc::cpu::simd
