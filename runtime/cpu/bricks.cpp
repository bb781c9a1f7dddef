#include "runtime/cpu/bricks.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "frontend/quant/quant.h"
#include "ir/brick.h"
#include "ir/error.h"
#include "runtime/cpu/simd/qdot.h"

namespace brickc::cpu {

namespace {

// Partial sums per dot product: two 4-float vectors (GCC/Clang vector extensions, which
// lower to SSE2 on any x86-64 and to NEON on arm64), so that dot4's eight fit in the
// sixteen vector registers. Lane j of the pair sums the products of elements j mod 8.
using f32x4 = float __attribute__((vector_size(16)));
constexpr int kLanes = 8;

f32x4 load4(const float* p) {
  f32x4 v;
  std::memcpy(&v, p, sizeof v);  // unaligned load (movups)
  return v;
}

// The tail (n mod 8 elements) and the reduction, shared so that dot and dot4 agree bit
// for bit.
float finish(f32x4 lo, f32x4 hi, const float* a, const float* b, int64_t i, int64_t n) {
  float acc[kLanes];
  std::memcpy(acc, &lo, sizeof lo);
  std::memcpy(acc + 4, &hi, sizeof hi);
  for (int j = 0; i < n; ++i, ++j) acc[j] += a[i] * b[i];
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
  return acc[0];
}

// Four rows dotted with one vector, x loaded once for all four; each sum is formed in
// exactly dot()'s order, so a row gives the same bits whichever of the two computes it.
void dot4(const float* r0, const float* r1, const float* r2, const float* r3, const float* x,
          int64_t n, float* out) {
  f32x4 a0 = {}, b0 = {}, a1 = {}, b1 = {}, a2 = {}, b2 = {}, a3 = {}, b3 = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const f32x4 xl = load4(x + i), xh = load4(x + i + 4);
    a0 += load4(r0 + i) * xl;
    b0 += load4(r0 + i + 4) * xh;
    a1 += load4(r1 + i) * xl;
    b1 += load4(r1 + i + 4) * xh;
    a2 += load4(r2 + i) * xl;
    b2 += load4(r2 + i + 4) * xh;
    a3 += load4(r3 + i) * xl;
    b3 += load4(r3 + i + 4) * xh;
  }
  out[0] = finish(a0, b0, r0, x, i, n);
  out[1] = finish(a1, b1, r1, x, i, n);
  out[2] = finish(a2, b2, r2, x, i, n);
  out[3] = finish(a3, b3, r3, x, i, n);
}

// y += a·x, eight lanes at a time: -O2's vectorizer will not version a loop for a
// runtime trip count or possible aliasing, so the plain loop would stay scalar.
void axpy(float a, const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    f32x4 v = load4(y + i);
    v += a * load4(x + i);
    std::memcpy(y + i, &v, sizeof v);
  }
  for (; i < n; ++i) y[i] += a * x[i];
}

// y += a0·x0 + a1·x1 + a2·x2 + a3·x3, each term added in that order as four axpy calls
// would (so the same bits), with y loaded and stored once instead of four times.
void axpy4(const float* a, const float* x0, const float* x1, const float* x2, const float* x3,
           float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    f32x4 v = load4(y + i);
    v += a[0] * load4(x0 + i);
    v += a[1] * load4(x1 + i);
    v += a[2] * load4(x2 + i);
    v += a[3] * load4(x3 + i);
    std::memcpy(y + i, &v, sizeof v);
  }
  for (; i < n; ++i) {
    y[i] += a[0] * x0[i];
    y[i] += a[1] * x1[i];
    y[i] += a[2] * x2[i];
    y[i] += a[3] * x3[i];
  }
}

}  // namespace

float dot(const float* a, const float* b, int64_t n) {
  f32x4 lo = {}, hi = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    lo += load4(a + i) * load4(b + i);
    hi += load4(a + i + 4) * load4(b + i + 4);
  }
  return finish(lo, hi, a, b, i, n);
}

void embed(const Matrix& table, int32_t token, float* out) {
  quant::dequantize(table.type, table.data + static_cast<uint64_t>(token) * table.row_bytes, out,
                    table.cols);
}

void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * w[i];
}

void matmul(ThreadPool& pool, const Matrix& w, const float* x, int64_t n_tokens, float* y,
            const float* bias) {
  // Rows dequantized together: the activations stream from cache once per tile, not per row.
  constexpr int64_t kTile = 4;
  const int64_t chunks = 4 * static_cast<int64_t>(pool.n_threads());
  const int64_t grain = std::max(kTile, (w.rows / chunks + kTile - 1) / kTile * kTile);
  const int64_t cols = w.cols, rows = w.rows;
  pool.run_parallel(rows, grain, [&](int64_t r0, int64_t r1) {
    thread_local std::vector<float> tile;
    tile.resize(static_cast<size_t>(kTile * cols));
    for (int64_t r = r0; r < r1; r += kTile) {
      const int64_t nr = std::min(kTile, r1 - r);
      for (int64_t i = 0; i < nr; ++i)
        quant::dequantize(w.type, w.data + static_cast<uint64_t>(r + i) * w.row_bytes,
                          tile.data() + i * cols, cols);
      for (int64_t t = 0; t < n_tokens; ++t) {
        const float* xt = x + t * cols;
        float* yt = y + t * rows + r;
        const float* w0 = tile.data();
        if (nr == kTile)
          dot4(w0, w0 + cols, w0 + 2 * cols, w0 + 3 * cols, xt, cols, yt);
        else
          for (int64_t i = 0; i < nr; ++i) yt[i] = dot(w0 + i * cols, xt, cols);
        if (bias)
          for (int64_t i = 0; i < nr; ++i) yt[i] += bias[r + i];
      }
    }
  });
}

DType llama_cpu_activation_type(DType weight) {
  // f16/bf16 matmuls convert their input to the weights' type; the rest are the int8
  // engine's vec_dot types (Q8_1, for Q4_1/Q5_1, holds the same rounded values as Q8_0).
  if (weight == DType::F16 || weight == DType::BF16) return weight;
  return simd::activation_type(weight);
}

void round_activations(DType t, const float* x, float* y, int64_t n) {
  thread_local std::vector<uint8_t> q;
  const auto bytes = row_bytes(t, static_cast<uint64_t>(n));
  if (!bytes) fail("cannot round {} activations to {}: not a whole number of blocks", n, name(t));
  q.resize(*bytes);
  quant::quantize(t, x, q.data(), n);
  quant::dequantize(t, q.data(), y, n);
}

void rope_neox(float* x, int64_t n_heads, int64_t head_dim, int64_t pos, float theta_base) {
  const int64_t half = head_dim / 2;
  thread_local std::vector<float> cos_t, sin_t;
  cos_t.resize(static_cast<size_t>(half));
  sin_t.resize(static_cast<size_t>(half));
  // ggml_rope_cache_init: theta starts at the position and is multiplied once per pair.
  const float theta_scale = ir::rope_theta_scale(theta_base, head_dim);
  float theta = static_cast<float>(pos);
  for (int64_t i = 0; i < half; ++i) {
    cos_t[i] = std::cos(theta);
    sin_t[i] = std::sin(theta);
    theta *= theta_scale;
  }
  for (int64_t h = 0; h < n_heads; ++h) {
    float* xh = x + h * head_dim;
    for (int64_t i = 0; i < half; ++i) {
      const float x0 = xh[i], x1 = xh[i + half];
      xh[i] = x0 * cos_t[i] - x1 * sin_t[i];
      xh[i + half] = x0 * sin_t[i] + x1 * cos_t[i];
    }
  }
}

void to_f16(const simd::AttentionKernels& kernels, const float* x, uint16_t* y, int64_t n) {
  if (kernels.to_f16) return kernels.to_f16(x, y, n);
  for (int64_t i = 0; i < n; ++i) y[i] = quant::f32_to_fp16(x[i]);
}

void from_f16(const simd::AttentionKernels& kernels, const uint16_t* x, float* y, int64_t n) {
  if (kernels.from_f16) return kernels.from_f16(x, y, n);
  for (int64_t i = 0; i < n; ++i) y[i] = quant::fp16_to_f32(x[i]);
}

void from_q8_0(const simd::AttentionKernels& kernels, const uint8_t* x, float* y, int64_t n) {
  if (kernels.from_q8_0) return kernels.from_q8_0(x, y, n);
  quant::dequantize(DType::Q8_0, x, y, n);
}

void attention(ThreadPool& pool, const AttentionConfig& s, const float* q, int64_t n_tokens,
               int64_t pos0, const KvView& cache, float* out) {
  const int64_t hd = s.head_dim, group = s.n_head / s.n_head_kv;
  const int64_t q_stride = s.n_head * hd;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  // A pool item is a block of up to kBlock queries of one head: each chunk of kKeys keys,
  // then of values, is read once per block rather than once per query (a prompt's queries
  // otherwise stream the whole cache each, which made attention a third of a 16-thread
  // prompt step). Long caches take fewer queries per block to bound the scores' buffer.
  // Every score, softmax and weighted sum is formed in the same order as query by query,
  // so the results do not depend on the blocking.
  constexpr int64_t kBlock = 16, kKeys = 64, kMaxScores = int64_t{1} << 20;
  const int64_t block = std::clamp<int64_t>(kMaxScores / (pos0 + n_tokens), 1, kBlock);
  const int64_t n_blocks = (n_tokens + block - 1) / block;
  // Items go to a thread in chunks of at least kMinWork multiply-adds (scores and weighted
  // sums), about what handing a chunk to a worker costs (a few us): a decode step at a
  // short context then runs its attention in one or two chunks, not one per head.
  constexpr int64_t kMinWork = int64_t{1} << 16;
  // A decode step (one token) makes its blocks of the heads that share a kv head instead
  // (GQA: the 1.5B's 12 heads read 2 kv heads): each key and value is then read (and an
  // f16 cache's widened) once for all of them, where one head per item read them once per
  // head, 6 times, from beyond the L2 at a long context. As many heads per block as still
  // leave a block per thread, or per chunk where the step's work makes fewer chunks (the
  // 0.5B at a short context on 16 threads: 2 blocks of 7 heads in one chunk, not 14 heads).
  const bool by_heads = n_tokens == 1 && group > 1;
  const int64_t chunks =
      std::clamp<int64_t>(s.n_head * (pos0 + 1) * hd * 2 / kMinWork, 1, pool.n_threads());
  int64_t heads = 1;
  for (int64_t g = group; by_heads && g > 1 && heads == 1; --g)
    if (group % g == 0 && s.n_head / g >= chunks) heads = g;
  const int64_t n_items = by_heads ? s.n_head / heads : n_blocks * s.n_head;
  const int64_t per_item = by_heads ? heads : block;  // queries
  const int64_t grain = std::max<int64_t>(1, kMinWork / (per_item * (pos0 + n_tokens) * hd * 2));
  pool.run_parallel(n_items, grain, [&](int64_t b, int64_t e) {
    thread_local std::vector<float> p, wide;
    if (cache.k_type != DType::F32 || cache.v_type != DType::F32)
      wide.resize(static_cast<size_t>(kKeys * hd));
    for (int64_t item = b; item < e; ++item) {
      // Query i of the block: token t0 + i of head h, or head h + i of the one token. The
      // last blocks of a prompt, which see the most keys, go first: the pool's tail is then
      // short.
      const int64_t blk = by_heads ? 0 : n_blocks - 1 - item / s.n_head;
      const int64_t h = by_heads ? item * heads : item % s.n_head, kvh = h / group;
      const int64_t t0 = blk * block, nt = by_heads ? heads : std::min(block, n_tokens - t0);
      const int64_t stride = by_heads ? hd : q_stride, end_step = by_heads ? 0 : 1;
      const int64_t first_end = pos0 + t0 + 1;  // causal: the keys query 0 sees
      const int64_t width = first_end + (nt - 1) * end_step;  // the keys the last one sees
      p.resize(static_cast<size_t>(nt * width));
      auto query = [&](int64_t i) { return q + t0 * q_stride + h * hd + i * stride; };
      auto output = [&](int64_t i) { return out + t0 * q_stride + h * hd + i * stride; };
      // The block's queries against keys (or values) j0 .. j0 + kKeys - 1 as f32 rows,
      // indexed from j0: the cache's own, or an f16 or q8_0 cache's widened into `wide`.
      auto chunk = [&](const void* kv, DType type, int64_t j0) {
        const int64_t at = kvh * cache.head_stride + j0 * cache.pos_stride;
        simd::AttentionChunk c{query(0), stride, nullptr, cache.pos_stride, nt, kKeys,
                               first_end - j0, end_step, hd};
        if (type == DType::F32) {
          c.kv = static_cast<const float*>(kv) + at;
          return c;
        }
        const int64_t rows = std::min(kKeys, width - j0);
        if (type == DType::F16) {
          const auto* x = static_cast<const uint16_t*>(kv) + at;
          for (int64_t j = 0; j < rows; ++j)
            from_f16(s.kernels, x + j * cache.pos_stride, wide.data() + j * hd, hd);
        } else {
          const auto* x = static_cast<const uint8_t*>(kv) + q8_0_bytes(at);
          for (int64_t j = 0; j < rows; ++j)
            from_q8_0(s.kernels, x + q8_0_bytes(j * cache.pos_stride), wide.data() + j * hd, hd);
        }
        c.kv = wide.data();
        c.kv_stride = hd;
        return c;
      };
      for (int64_t j0 = 0; j0 < width; j0 += kKeys) {
        const simd::AttentionChunk c = chunk(cache.k, cache.k_type, j0);
        if (s.kernels.scores) {
          s.kernels.scores(c, p.data() + j0, width);
          continue;
        }
        for (int64_t i = 0; i < nt; ++i) {
          float* pi = p.data() + i * width + j0;
          const float* k = c.kv;
          const int64_t ks = c.kv_stride, j1 = c.end(i);
          int64_t j = 0;
          // Four keys per pass share the loads of q (dot4 gives dot()'s bits).
          for (; j + 4 <= j1; j += 4)
            dot4(k + j * ks, k + (j + 1) * ks, k + (j + 2) * ks, k + (j + 3) * ks, query(i), hd,
                 pi + j);
          for (; j < j1; ++j) pi[j] = dot(query(i), k + j * ks, hd);
        }
      }
      for (int64_t i = 0; i < nt; ++i) {  // scores to probabilities, in place
        float* pi = p.data() + i * width;
        const int64_t n_kv = first_end + i * end_step;
        std::fill(output(i), output(i) + hd, 0.0f);
        if (s.kernels.softmax) {
          s.kernels.softmax(pi, n_kv, scale, s.f16_probabilities);
          continue;
        }
        float max = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < n_kv; ++j) {
          pi[j] *= scale;
          max = std::max(max, pi[j]);
        }
        double sum = 0.0;  // ggml's soft_max sums in double too
        for (int64_t j = 0; j < n_kv; ++j) {
          pi[j] = std::exp(pi[j] - max);
          sum += pi[j];
        }
        const float inv = static_cast<float>(1.0 / sum);
        for (int64_t j = 0; j < n_kv; ++j) {
          pi[j] *= inv;
          if (s.f16_probabilities) pi[j] = quant::fp16_to_f32(quant::f32_to_fp16(pi[j]));
        }
      }
      for (int64_t j0 = 0; j0 < width; j0 += kKeys) {
        const simd::AttentionChunk c = chunk(cache.v, cache.v_type, j0);
        if (s.kernels.weigh) {
          s.kernels.weigh(c, p.data() + j0, width, output(0));
          continue;
        }
        for (int64_t i = 0; i < nt; ++i) {
          const float* pi = p.data() + i * width + j0;
          const float* v = c.kv;
          const int64_t vs = c.kv_stride, j1 = c.end(i);
          float* o = output(i);
          int64_t j = 0;
          for (; j + 4 <= j1; j += 4)
            axpy4(pi + j, v + j * vs, v + (j + 1) * vs, v + (j + 2) * vs, v + (j + 3) * vs, o, hd);
          for (; j < j1; ++j) axpy(pi[j], v + j * vs, o, hd);
        }
      }
    }
  });
}

void swiglu(const float* gate, const float* up, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void add(const float* a, const float* b, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

int32_t argmax(ThreadPool& pool, const float* x, int64_t n) {
  constexpr int64_t kChunk = 8192;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<int64_t> best(static_cast<size_t>(chunks), -1);  // per chunk; -1: none
  pool.run_parallel(chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      int64_t b = -1;
      float v = -std::numeric_limits<float>::infinity();
      for (int64_t i = c * kChunk; i < std::min(n, (c + 1) * kChunk); ++i)
        if (x[i] > v || (b < 0 && x[i] == v)) v = x[b = i];
      best[static_cast<size_t>(c)] = b;
    }
  });
  int64_t out = -1;  // chunks in order, so the first maximum stays
  for (int64_t b : best)
    if (b >= 0 && (out < 0 || x[b] > x[out])) out = b;
  return static_cast<int32_t>(std::max<int64_t>(out, 0));
}

}  // namespace brickc::cpu
