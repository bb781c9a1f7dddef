#include "runtime/cpu/matmul_q8.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "frontend/quant/quant.h"
#include "ir/error.h"
#include "runtime/cpu/simd/q8_activations.h"
#include "runtime/cpu/simd/rows8.h"
#include "runtime/cpu/simd/tiles.h"

namespace brickc::cpu {
namespace {

// The least weight bytes of one pool chunk of a decode step's product. Each chunk costs a
// claim on a cache line that all threads share, and 8 chunks a thread made the 0.5B's
// small matrices chunks of 5-10 KB: with 16 threads on the H200 host (call G), tg128 went
// from 135 to 151-161 tok/s with this bound, and to 138-157 with 64 KB.
constexpr int64_t kMinChunkBytes = 16384;

// x quantized to one activation type, in groups of kMaxTokens tokens interleaved by block
// (simd::QActivations): group g holds tokens g·kMaxTokens .. with pitch = its token count.
// For Q8_0, each block's scale as f32 and the sum of its quants, in the same order.
struct Quantized {
  DType type = DType::F32;
  uint64_t row = 0;     // bytes of one token's blocks
  int64_t blocks = 0;   // blocks per token
  uint64_t block = 0;   // bytes per block
  std::vector<uint8_t> bytes;
  std::vector<float> d;
  std::vector<int32_t> sum;

  simd::QActivations group(int64_t t, int64_t n_tokens) const {
    const int64_t pitch = std::min<int64_t>(simd::kMaxTokens, n_tokens - t);
    if (d.empty()) return {bytes.data() + row * static_cast<uint64_t>(t), nullptr, pitch};
    return {bytes.data() + row * static_cast<uint64_t>(t), d.data() + blocks * t, pitch,
            sum.data() + blocks * t};
  }
};

void quantize_tokens(ThreadPool& pool, const float* x, int64_t cols, int64_t n_tokens,
                     Quantized& q) {
  q.row = *row_bytes(q.type, static_cast<uint64_t>(cols));
  q.block = info(q.type).block_bytes;
  q.blocks = cols / info(q.type).block_elems;
  q.bytes.resize(q.row * static_cast<uint64_t>(n_tokens));
  q.d.resize(q.type == DType::Q8_0 ? static_cast<size_t>(q.blocks * n_tokens) : 0);
  q.sum.resize(q.d.size());
  pool.run_parallel(n_tokens, 1, [&](int64_t t0, int64_t t1) {
    thread_local std::vector<uint8_t> one;
    one.resize(q.row);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t g = t / simd::kMaxTokens * simd::kMaxTokens, k = t - g;
      const int64_t pitch = std::min<int64_t>(simd::kMaxTokens, n_tokens - g);
      uint8_t* group = q.bytes.data() + q.row * static_cast<uint64_t>(g);
      // A group of one token (every decode step) is laid out as the row itself.
      uint8_t* row = pitch == 1 ? group : one.data();
      simd::quantize_q8(q.type, x + t * cols, row, cols);
      for (int64_t b = 0; b < q.blocks; ++b) {
        const uint8_t* block = row + q.block * static_cast<uint64_t>(b);
        const uint64_t at = static_cast<uint64_t>(b * pitch + k);
        if (pitch > 1) std::memcpy(group + q.block * at, block, q.block);
        if (!q.d.empty()) {
          uint16_t h;
          std::memcpy(&h, block, sizeof h);
          q.d[static_cast<size_t>(g * q.blocks) + at] = quant::fp16_to_f32(h);
          q.sum[static_cast<size_t>(g * q.blocks) + at] =
              simd::sum32(reinterpret_cast<const int8_t*>(block + sizeof h));
        }
      }
    }
  });
}

// A prompt step's products on AMX tiles (simd/tiles.h): each pool chunk is a strip of 16
// rows of one matrix, unpacked once and multiplied with every tile of 16 tokens.
void matmul_tiles(ThreadPool& pool, std::span<const MatmulPart> parts, const float* x,
                  int64_t n_tokens) {
  const int64_t cols = parts[0].w->cols;
  thread_local std::array<simd::TileActivations, 2> packed;  // per activation type
  std::array<const simd::TileActivations*, kMaxMatmulParts> act{};
  std::array<int64_t, kMaxMatmulParts + 1> first_strip{};  // of each part, in one numbering
  std::array<uint64_t, kMaxMatmulParts> group_bytes{};  // of 8 repacked rows
  int n_types = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const DType type = simd::activation_type(parts[i].w->type);
    for (int k = 0; k < n_types; ++k)
      if (packed[k].type == type) act[i] = &packed[k];
    if (!act[i]) {
      simd::TileActivations& a = packed[n_types++];
      a.reset(type, cols, n_tokens);
      // Whole tiles per chunk: the tokens of a tile share cache lines.
      pool.run_parallel(n_tokens, simd::kTileTokens, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) a.quantize(t, x + t * cols);
      });
      act[i] = &a;
    }
    first_strip[i + 1] =
        first_strip[i] + (parts[i].w->rows + simd::kTileRows - 1) / simd::kTileRows;
    group_bytes[i] = simd::rows8_bytes(parts[i].w->type, simd::kRows8, cols);
  }
  pool.run_parallel(first_strip[parts.size()], 1, [&](int64_t s0, int64_t s1) {
    thread_local simd::TileStrip strip;
    alignas(64) float out[simd::kTileRows * simd::kTileTokens];
    for (int64_t s = s0; s < s1; ++s) {
      size_t i = 0;
      while (s >= first_strip[i + 1]) ++i;
      const MatmulPart& p = parts[i];
      const Matrix& w = *p.w;
      const int64_t r0 = (s - first_strip[i]) * simd::kTileRows;
      const int nr = static_cast<int>(std::min<int64_t>(simd::kTileRows, w.rows - r0));
      if (w.rows8)
        simd::unpack_strip_rows8(w.type, w.rows8 + r0 / simd::kRows8 * group_bytes[i], nr, cols,
                                 strip);
      else
        simd::unpack_strip(w.type, w.data + static_cast<uint64_t>(r0) * w.row_bytes, w.row_bytes,
                           nr, cols, strip);
      for (int64_t tile = 0; tile < act[i]->tiles(); ++tile) {
        simd::amx_strip_product(strip, *act[i], tile, out);
        const int64_t t0 = tile * simd::kTileTokens;
        const int64_t nt = std::min<int64_t>(simd::kTileTokens, n_tokens - t0);
        for (int64_t n = 0; n < nt; ++n)
          for (int m = 0; m < nr; ++m)
            p.y[(t0 + n) * w.rows + r0 + m] =
                out[m * simd::kTileTokens + n] + (p.bias ? p.bias[r0 + m] : 0.0f);
      }
    }
  });
}

// The int8 parts (activation_type not F32) with the dot-product kernels.
void matmul_dots(ThreadPool& pool, simd::Isa isa, std::span<const MatmulPart> parts,
                 const float* x, int64_t n_tokens) {
  const int64_t cols = parts[0].w->cols;
  // At most two activation types (Q8_0 and Q8_K) appear in one group. Fixed-size state:
  // this runs several times per layer of every decode step.
  thread_local std::array<Quantized, 2> quantized;
  int n_types = 0;
  struct Job {
    const MatmulPart* part;
    simd::DotFn dot;
    simd::Rows8Fn rows8;  // set where the matrix is repacked: dot is then unused
    uint64_t group_bytes;  // of 8 repacked rows
    const Quantized* xq;
  };
  std::array<Job, kMaxMatmulParts> jobs;
  size_t n_jobs = 0;
  int64_t total_rows = 0, total_bytes = 0;
  for (const MatmulPart& p : parts) {
    const DType act = simd::activation_type(p.w->type);
    Quantized* q = nullptr;
    for (int i = 0; i < n_types; ++i)
      if (quantized[i].type == act) q = &quantized[i];
    if (!q) {
      q = &quantized[n_types++];
      q->type = act;
      quantize_tokens(pool, x, cols, n_tokens, *q);
    }
    simd::Rows8Fn rows8 = p.w->rows8 ? simd::rows8_kernel(p.w->type, isa) : nullptr;
    if (p.w->rows8 && !rows8)
      fail("internal: a {} matrix is repacked, but {} has no kernel for it", name(p.w->type),
           simd::name(isa));
    jobs[n_jobs++] = {&p, simd::dot_kernel(p.w->type, isa), rows8,
                      simd::rows8_bytes(p.w->type, simd::kRows8, cols), q};
    total_rows += p.w->rows;
    total_bytes += static_cast<int64_t>(p.w->row_bytes) * p.w->rows;
  }

  // Rows in tiles, each tile dotted with every token while its bytes are in cache, the
  // tokens kMaxTokens at a time so that each weight block is unpacked once per group.
  // With more tokens than one group, the tile is 32 rows: each group's activations are
  // then read from cache once per 32 rows instead of 4 (1.5B pp256 on 2 cores: +11 %);
  // a decode step keeps tiles of 4, which split the small matrices evenly over the threads.
  // Repacked matrices go 8 rows at a time: they come first in the rows split over the pool,
  // and the tiles are multiples of 8, so that each of their slices starts at a group of 8.
  const auto repacked = std::stable_partition(jobs.begin(), jobs.begin() + n_jobs,
                                              [](const Job& j) { return j.rows8 != nullptr; });
  const int64_t tile = n_tokens > simd::kMaxTokens  ? 32
                       : repacked != jobs.begin() ? simd::kRows8
                                                  : 4;
  const int64_t chunks = 8 * static_cast<int64_t>(pool.n_threads());
  const int64_t min_rows = n_tokens > simd::kMaxTokens
                               ? 0
                               : (kMinChunkBytes * total_rows + total_bytes - 1) / total_bytes;
  const int64_t grain =
      std::max(tile, (std::max(total_rows / chunks, min_rows) + tile - 1) / tile * tile);
  pool.run_parallel(total_rows, grain, [&](int64_t g0, int64_t g1) {
    int64_t base = 0;  // first global row of the current job
    for (const Job& j : std::span(jobs).first(n_jobs)) {
      const Matrix& w = *j.part->w;
      const int64_t r0 = std::max(g0, base) - base, r1 = std::min(g1, base + w.rows) - base;
      base += w.rows;
      for (int64_t r = r0; r < r1; r += tile) {
        const int64_t nr = std::min(tile, r1 - r);
        for (int64_t t = 0; t < n_tokens; t += simd::kMaxTokens) {
          const int nt = static_cast<int>(std::min<int64_t>(simd::kMaxTokens, n_tokens - t));
          const simd::QActivations xt = j.xq->group(t, n_tokens);
          if (j.rows8) {
            for (int64_t i = 0; i < nr; i += simd::kRows8) {
              float dots[simd::kMaxTokens * simd::kRows8];
              const uint64_t group = static_cast<uint64_t>((r + i) / simd::kRows8);
              j.rows8(w.rows8 + group * j.group_bytes, xt, nt, cols, dots);
              for (int k = 0; k < nt; ++k)
                for (int64_t q = 0; q < simd::kRows8; ++q)
                  j.part->y[(t + k) * w.rows + r + i + q] =
                      dots[k * simd::kRows8 + q] + (j.part->bias ? j.part->bias[r + i + q] : 0.0f);
            }
            continue;
          }
          for (int64_t i = 0; i < nr; ++i) {
            float dots[simd::kMaxTokens];
            j.dot(w.data + static_cast<uint64_t>(r + i) * w.row_bytes, xt, nt, cols, dots);
            const float b = j.part->bias ? j.part->bias[r + i] : 0.0f;
            for (int k = 0; k < nt; ++k) j.part->y[(t + k) * w.rows + r + i] = dots[k] + b;
          }
        }
      }
    }
  });
}

}  // namespace

void matmul_q8(ThreadPool& pool, simd::Isa isa, std::span<const MatmulPart> parts,
               const float* x, int64_t n_tokens) {
  if (parts.size() > kMaxMatmulParts)
    fail("internal: {} products share one input; at most {} do", parts.size(), kMaxMatmulParts);
  // f16/bf16/f32 weights take the f32 reference product; the others are int8 parts.
  std::array<MatmulPart, kMaxMatmulParts> int8;
  size_t n_int8 = 0;
  for (const MatmulPart& p : parts) {
    if (p.w->cols != parts[0].w->cols)
      fail("internal: matrices of {} and {} columns share one activation", parts[0].w->cols,
           p.w->cols);
    if (simd::activation_type(p.w->type) == DType::F32)
      matmul(pool, *p.w, x, n_tokens, p.y, p.bias);
    else
      int8[n_int8++] = p;
  }
  if (n_int8 == 0) return;
  const auto q8 = std::span<const MatmulPart>(int8).first(n_int8);
  if (isa == simd::Isa::kAmx && n_tokens > simd::kMaxTokens)
    matmul_tiles(pool, q8, x, n_tokens);
  else
    matmul_dots(pool, isa, q8, x, n_tokens);
}

}  // namespace brickc::cpu
