// Each CPU brick against a naive double-precision implementation written here, on fresh
// random inputs, with outputs poisoned (NaN) before the call.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "frontend/quant/quant.h"
#include "ir/error.h"
#include "runtime/cpu/bricks.h"
#include "runtime/cpu/simd/qdot.h"

namespace brickc::cpu {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<float> random_vec(std::mt19937& rng, size_t n, float scale = 1.0f) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::mt19937 fresh_rng() { return std::mt19937(std::random_device{}()); }

// Caches as rows of positions ([position][kv head][head_dim]), as Qwen2Model keeps them.
KvView rows(const AttentionConfig& s, const std::vector<float>& k, const std::vector<float>& v) {
  return {k.data(), v.data(), s.n_head_kv * s.head_dim, s.head_dim};
}

TEST(CpuBricks, DotMatchesDouble) {
  auto rng = fresh_rng();
  for (int64_t n : {1, 15, 16, 17, 64, 896, 4864}) {
    const auto a = random_vec(rng, n), b = random_vec(rng, n);
    double want = 0, mag = 0;
    for (int64_t i = 0; i < n; ++i) {
      want += double(a[i]) * b[i];
      mag += std::abs(double(a[i]) * b[i]);
    }
    // f32 accumulation: error bounded by ~n·eps·Σ|a·b| in the worst case; typically √n.
    EXPECT_NEAR(dot(a.data(), b.data(), n), want, 1e-6 * mag + 1e-7) << "n=" << n;
  }
}

TEST(CpuBricks, RmsnormMatchesDouble) {
  auto rng = fresh_rng();
  const int64_t n = 896;
  const auto x = random_vec(rng, n, 3.0f), w = random_vec(rng, n);
  std::vector<float> y(n, kNaN);
  rmsnorm(x.data(), w.data(), y.data(), n, 1e-6f);
  double ss = 0;
  for (float v : x) ss += double(v) * v;
  const double scale = 1.0 / std::sqrt(ss / n + 1e-6);
  for (int64_t i = 0; i < n; ++i)
    EXPECT_NEAR(y[i], x[i] * scale * w[i], 1e-5 * std::abs(x[i] * scale * w[i]) + 1e-6);
}

struct MatmulCase {
  DType type;
  int64_t cols, rows, n_tokens;
};

class CpuMatmul : public ::testing::TestWithParam<MatmulCase> {};

TEST_P(CpuMatmul, MatchesDoubleOnDequantizedWeights) {
  const auto c = GetParam();
  auto rng = fresh_rng();
  const auto wf = random_vec(rng, c.cols * c.rows, 0.05f);
  std::vector<uint8_t> wq(*row_bytes(c.type, c.cols) * c.rows);
  quant::quantize(c.type, wf.data(), wq.data(), c.cols * c.rows);
  // The reference multiplies the weights the file holds, so quantization error is not
  // part of the comparison; dequantization itself is tested in quant's tests.
  std::vector<float> wd(c.cols * c.rows);
  quant::dequantize(c.type, wq.data(), wd.data(), c.cols * c.rows);
  const auto x = random_vec(rng, c.n_tokens * c.cols), bias = random_vec(rng, c.rows);
  const Matrix m{c.type, wq.data(), c.cols, c.rows, *row_bytes(c.type, c.cols)};
  for (int threads : {1, 3}) {
    ThreadPool pool(threads);
    for (const float* b : {static_cast<const float*>(nullptr), bias.data()}) {
      std::vector<float> y(c.n_tokens * c.rows, kNaN);
      matmul(pool, m, x.data(), c.n_tokens, y.data(), b);
      for (int64_t t = 0; t < c.n_tokens; ++t)
        for (int64_t r = 0; r < c.rows; ++r) {
          double want = b ? b[r] : 0.0, mag = std::abs(want);
          for (int64_t k = 0; k < c.cols; ++k) {
            want += double(wd[r * c.cols + k]) * x[t * c.cols + k];
            mag += std::abs(double(wd[r * c.cols + k]) * x[t * c.cols + k]);
          }
          ASSERT_NEAR(y[t * c.rows + r], want, 1e-6 * mag + 1e-7)
              << name(c.type) << " token " << t << " row " << r << " threads " << threads;
        }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Types, CpuMatmul,
    ::testing::Values(MatmulCase{DType::F32, 64, 37, 1}, MatmulCase{DType::F16, 96, 33, 3},
                      MatmulCase{DType::BF16, 64, 9, 2}, MatmulCase{DType::Q8_0, 128, 50, 5},
                      MatmulCase{DType::Q4_0, 96, 41, 1}, MatmulCase{DType::Q5_0, 64, 23, 4},
                      MatmulCase{DType::Q4_K, 512, 19, 3}, MatmulCase{DType::Q5_K, 256, 11, 2},
                      MatmulCase{DType::Q6_K, 256, 30, 6}),
    [](const auto& info) { return std::string(name(info.param.type)); });

TEST(CpuBricks, MatmulDoesNotDependOnThreadCount) {
  auto rng = fresh_rng();
  const int64_t cols = 512, rows = 301, n_tokens = 7;
  const auto wf = random_vec(rng, cols * rows);
  std::vector<uint8_t> wq(*row_bytes(DType::Q4_K, cols) * rows);
  quant::quantize(DType::Q4_K, wf.data(), wq.data(), cols * rows);
  const Matrix m{DType::Q4_K, wq.data(), cols, rows, *row_bytes(DType::Q4_K, cols)};
  const auto x = random_vec(rng, n_tokens * cols);
  std::vector<std::vector<float>> ys;
  for (int threads : {1, 2, 5}) {
    ThreadPool pool(threads);
    ys.emplace_back(n_tokens * rows, kNaN);
    matmul(pool, m, x.data(), n_tokens, ys.back().data());
  }
  EXPECT_EQ(ys[0], ys[1]);
  EXPECT_EQ(ys[0], ys[2]);
}

TEST(CpuBricks, MatmulRowsAreDotsBitForBit) {
  // matmul computes whole tiles of rows together: each row must still come out exactly as
  // dot() gives it (prefill, decode and attention then share one summation order).
  auto rng = fresh_rng();
  for (int64_t cols : {8, 37, 896}) {
    const int64_t rows = 11, n_tokens = 3;
    const auto w = random_vec(rng, rows * cols), x = random_vec(rng, n_tokens * cols);
    const Matrix m{DType::F32, reinterpret_cast<const uint8_t*>(w.data()), cols, rows,
                   static_cast<uint64_t>(cols) * 4};
    ThreadPool pool(2);
    std::vector<float> y(n_tokens * rows, kNaN);
    matmul(pool, m, x.data(), n_tokens, y.data());
    for (int64_t t = 0; t < n_tokens; ++t)
      for (int64_t r = 0; r < rows; ++r)
        ASSERT_EQ(y[t * rows + r], dot(w.data() + r * cols, x.data() + t * cols, cols))
            << "cols " << cols << " token " << t << " row " << r;
  }
}

TEST(CpuBricks, RoundActivationsAsLlamaCpp) {
  auto rng = fresh_rng();
  const int64_t n = 512;
  auto x = random_vec(rng, n, 2.0f);
  x[5] = 0.0f;
  std::vector<float> y(n, kNaN);
  // Q8_0: per 32 values d = amax/127 (stored as f16), q = round(x·127/amax).
  round_activations(DType::Q8_0, x.data(), y.data(), n);
  for (int64_t b = 0; b < n / 32; ++b) {
    double amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, double(std::abs(x[b * 32 + j])));
    const double d = quant::fp16_to_f32(quant::f32_to_fp16(float(amax / 127)));
    for (int j = 0; j < 32; ++j) {
      const int64_t i = b * 32 + j;
      EXPECT_NEAR(y[i], d * std::round(x[i] * 127.0 / amax), 1e-6 * amax) << "q8_0 " << i;
    }
  }
  // Q8_K: per 256 values d = max/-127 of the largest-magnitude value, kept in f32.
  round_activations(DType::Q8_K, x.data(), y.data(), n);
  for (int64_t b = 0; b < n / 256; ++b) {
    double amax = 0;
    for (int j = 0; j < 256; ++j) amax = std::max(amax, double(std::abs(x[b * 256 + j])));
    for (int j = 0; j < 256; ++j) {
      const int64_t i = b * 256 + j;
      EXPECT_NEAR(y[i], amax / 127 * std::round(x[i] * 127.0 / amax), 1e-5 * amax) << "q8_K " << i;
    }
  }
  // F16: nearest f16 value, relative error at most 2^-11; below 2^-14 (f16 subnormals, spaced
  // 2^-24) absolute error at most 2^-25.
  round_activations(DType::F16, x.data(), y.data(), n);
  for (int64_t i = 0; i < n; ++i)
    EXPECT_NEAR(y[i], x[i], std::max(std::ldexp(double(std::abs(x[i])), -11), std::ldexp(1.0, -25)));
  EXPECT_THROW(round_activations(DType::Q8_K, x.data(), y.data(), 100), Error);
}

TEST(CpuBricks, LlamaCppActivationTypes) {
  EXPECT_EQ(llama_cpu_activation_type(DType::F32), DType::F32);
  EXPECT_EQ(llama_cpu_activation_type(DType::F16), DType::F16);
  for (DType t : {DType::Q4_0, DType::Q5_0, DType::Q8_0})
    EXPECT_EQ(llama_cpu_activation_type(t), DType::Q8_0) << name(t);
  for (DType t : {DType::Q4_K, DType::Q5_K, DType::Q6_K})
    EXPECT_EQ(llama_cpu_activation_type(t), DType::Q8_K) << name(t);
}

TEST(CpuBricks, RopeNeoxMatchesDouble) {
  auto rng = fresh_rng();
  const int64_t n_heads = 3, hd = 64;
  const float base = 1e6f;
  for (int64_t pos : {0, 1, 7, 100, 1000}) {
    const auto x = random_vec(rng, n_heads * hd);
    auto y = x;
    rope_neox(y.data(), n_heads, hd, pos, base);
    for (int64_t h = 0; h < n_heads; ++h)
      for (int64_t i = 0; i < hd / 2; ++i) {
        const double theta = pos * std::pow(double(base), -2.0 * i / hd);
        const double x0 = x[h * hd + i], x1 = x[h * hd + i + hd / 2];
        // ggml builds the angle by repeated f32 multiplication: its error grows with
        // the position and the pair index (≈ pos·i·2^-24 radians).
        const double tol = 2e-6 + 3e-7 * pos * (i + 1) * (std::abs(x0) + std::abs(x1));
        EXPECT_NEAR(y[h * hd + i], x0 * std::cos(theta) - x1 * std::sin(theta), tol);
        EXPECT_NEAR(y[h * hd + i + hd / 2], x0 * std::sin(theta) + x1 * std::cos(theta), tol);
      }
  }
}

TEST(CpuBricks, AttentionMatchesDouble) {
  auto rng = fresh_rng();
  const AttentionConfig s{6, 2, 32};
  const int64_t n_tokens = 4, pos0 = 9, n_pos = pos0 + n_tokens;
  const int64_t qd = s.n_head * s.head_dim, kvd = s.n_head_kv * s.head_dim;
  const auto q = random_vec(rng, n_tokens * qd), k = random_vec(rng, n_pos * kvd),
             v = random_vec(rng, n_pos * kvd);
  for (int threads : {1, 4}) {
    ThreadPool pool(threads);
    std::vector<float> out(n_tokens * qd, kNaN), out16(n_tokens * qd, kNaN);
    attention(pool, s, q.data(), n_tokens, pos0, rows(s, k, v), out.data());
    AttentionConfig s16 = s;
    s16.f16_probabilities = true;
    attention(pool, s16, q.data(), n_tokens, pos0, rows(s, k, v), out16.data());
    for (int64_t t = 0; t < n_tokens; ++t)
      for (int64_t h = 0; h < s.n_head; ++h) {
        const int64_t kvh = h / (s.n_head / s.n_head_kv), n_kv = pos0 + t + 1;
        std::vector<double> w(n_kv);
        double max = -1e300, sum = 0;
        for (int64_t j = 0; j < n_kv; ++j) {
          double d = 0;
          for (int64_t e = 0; e < s.head_dim; ++e)
            d += double(q[t * qd + h * s.head_dim + e]) * k[j * kvd + kvh * s.head_dim + e];
          w[j] = d / std::sqrt(double(s.head_dim));
          max = std::max(max, w[j]);
        }
        for (auto& x : w) sum += (x = std::exp(x - max));
        for (int64_t e = 0; e < s.head_dim; ++e) {
          double o = 0;
          for (int64_t j = 0; j < n_kv; ++j) o += w[j] / sum * v[j * kvd + kvh * s.head_dim + e];
          ASSERT_NEAR(out[t * qd + h * s.head_dim + e], o, 2e-5)
              << "token " << t << " head " << h << " threads " << threads;
          // Weights rounded to f16 (relative error <= 2^-11 each) move the output by at
          // most 2^-11 · Σ_j w_j |v_j|.
          double bound = 0;
          for (int64_t j = 0; j < n_kv; ++j)
            bound += w[j] / sum * std::abs(v[j * kvd + kvh * s.head_dim + e]);
          ASSERT_NEAR(out16[t * qd + h * s.head_dim + e], o, std::ldexp(bound, -11) + 2e-5);
        }
      }
  }
}

TEST(CpuBricks, AttentionIgnoresFuturePositions) {
  // Causality: a query at position p must not read cache rows > p, whatever they hold.
  auto rng = fresh_rng();
  const AttentionConfig s{2, 1, 16};
  const int64_t n_pos = 5;
  const auto q = random_vec(rng, 2 * 16);
  auto k = random_vec(rng, n_pos * 16), v = random_vec(rng, n_pos * 16);
  ThreadPool pool(1);
  std::vector<float> a(2 * 16, kNaN), b(2 * 16, kNaN);
  attention(pool, s, q.data(), 1, 2, rows(s, k, v), a.data());
  for (int64_t i = 3 * 16; i < n_pos * 16; ++i) k[i] = v[i] = kNaN;
  attention(pool, s, q.data(), 1, 2, rows(s, k, v), b.data());
  EXPECT_EQ(a, b);
}

// A prompt's queries go through attention in blocks that share each chunk of keys; the
// result must be that of each query alone, bit for bit: blocks of 16 and a partial one,
// more than one chunk of 64 keys, each query seeing only the keys up to its position.
TEST(CpuBricks, AttentionOfAPromptIsThatOfEachQueryAlone) {
  auto rng = fresh_rng();
  const AttentionConfig s{6, 2, 32};
  const int64_t n_tokens = 40, pos0 = 70, n_pos = pos0 + n_tokens;
  const int64_t qd = s.n_head * s.head_dim, kvd = s.n_head_kv * s.head_dim;
  const auto q = random_vec(rng, n_tokens * qd), k = random_vec(rng, n_pos * kvd),
             v = random_vec(rng, n_pos * kvd);
  ThreadPool pool(3);
  for (bool f16 : {false, true}) {
    AttentionConfig c = s;
    c.f16_probabilities = f16;
    std::vector<float> all(n_tokens * qd, kNaN), one(n_tokens * qd, kNaN);
    attention(pool, c, q.data(), n_tokens, pos0, rows(s, k, v), all.data());
    for (int64_t t = 0; t < n_tokens; ++t)
      attention(pool, c, q.data() + t * qd, 1, pos0 + t, rows(s, k, v), one.data() + t * qd);
    for (int64_t i = 0; i < n_tokens * qd; ++i)
      ASSERT_EQ(all[i], one[i]) << "token " << i / qd << " f16 " << f16;
  }
}

// The int8 engine's SIMD attention kernels (simd/attention.h) of each set this machine has,
// against the reference loops, and a prompt's result against each query alone (bit for
// bit: every score and output element has one order). 43 queries: two blocks of 16 and one
// of 11 (whole register blocks and single queries), 70 cached positions before them (key
// chunks of 64, partly filled); head_dim 128, Qwen2.5's.
TEST(CpuBricks, SimdAttentionMatchesTheReferenceAndEachQueryAlone) {
  auto rng = fresh_rng();
  const AttentionConfig s{4, 2, 128};
  const int64_t n_tokens = 43, pos0 = 70, n_pos = pos0 + n_tokens;
  const int64_t qd = s.n_head * s.head_dim, kvd = s.n_head_kv * s.head_dim;
  const auto q = random_vec(rng, n_tokens * qd), k = random_vec(rng, n_pos * kvd),
             v = random_vec(rng, n_pos * kvd);
  ThreadPool pool(3);
  int ran = 0;
  for (simd::Isa isa : {simd::Isa::kAvx2, simd::Isa::kAvx512}) {
    if (!simd::supported(isa)) continue;
    ++ran;
    std::printf("  checking the %s attention kernels\n", std::string(simd::name(isa)).c_str());
    for (bool f16 : {false, true}) {
      AttentionConfig ref = s;
      ref.f16_probabilities = f16;
      AttentionConfig c = ref;
      c.kernels = simd::attention_kernels(isa, s.head_dim);
      ASSERT_TRUE(c.kernels.scores && c.kernels.weigh && c.kernels.softmax) << simd::name(isa);
      std::vector<float> want(n_tokens * qd, kNaN), all(n_tokens * qd, kNaN), one(n_tokens * qd, kNaN);
      attention(pool, ref, q.data(), n_tokens, pos0, rows(s, k, v), want.data());
      attention(pool, c, q.data(), n_tokens, pos0, rows(s, k, v), all.data());
      for (int64_t t = 0; t < n_tokens; ++t)
        attention(pool, c, q.data() + t * qd, 1, pos0 + t, rows(s, k, v), one.data() + t * qd);
      for (int64_t i = 0; i < n_tokens * qd; ++i) {
        ASSERT_EQ(all[i], one[i]) << simd::name(isa) << " token " << i / qd << " f16 " << f16;
        // Outputs are convex combinations of values of unit size; the kernels' sums differ
        // from the reference's only in their order (f16: a probability may round the other
        // way, 2^-11 relative).
        ASSERT_NEAR(all[i], want[i], f16 ? 2e-3 : 2e-5) << simd::name(isa) << " token " << i / qd;
      }
    }
  }
  if (ran == 0) GTEST_SKIP() << "this processor has none of brickc's SIMD sets";
}

// A decode step's attention takes the heads that share a kv head as one block, as many as
// leave a block per thread, and reads a cache kept as each kv head's positions together (the
// executor's layout), in f32 or in f16: every output must be that of the prompt's f32 rows
// layout, query by query, bit for bit (the cache holds values that f16 represents exactly),
// whatever the threads (1 and 2: blocks of all 6 heads, register blocks of 4 and 2; 4: of 3;
// 16: one head each), with the reference loops and each SIMD set.
TEST(CpuBricks, DecodeAttentionOfGroupedHeadsIsThatOfEachHead) {
  auto rng = fresh_rng();
  const AttentionConfig s{12, 2, 128};  // the 1.5B's heads
  const int64_t n_tokens = 5, pos0 = 150, n_pos = pos0 + n_tokens;
  const int64_t qd = s.n_head * s.head_dim, kvd = s.n_head_kv * s.head_dim;
  auto k = random_vec(rng, n_pos * kvd), v = random_vec(rng, n_pos * kvd);
  const auto q = random_vec(rng, n_tokens * qd);
  for (auto* c : {&k, &v})
    for (float& x : *c) x = quant::fp16_to_f32(quant::f32_to_fp16(x));
  // The same cache with each kv head's positions together, in f32 and in f16.
  std::vector<float> kh(k.size()), vh(v.size());
  std::vector<uint16_t> kh16(k.size()), vh16(v.size());
  for (int64_t j = 0; j < n_pos; ++j)
    for (int64_t g = 0; g < s.n_head_kv; ++g)
      for (int64_t e = 0; e < s.head_dim; ++e) {
        const int64_t at = (g * n_pos + j) * s.head_dim + e, from = j * kvd + g * s.head_dim + e;
        kh[at] = k[from];
        vh[at] = v[from];
        kh16[at] = quant::f32_to_fp16(k[from]);
        vh16[at] = quant::f32_to_fp16(v[from]);
      }
  const KvView heads{kh.data(), vh.data(), s.head_dim, n_pos * s.head_dim};
  const KvView heads16{kh16.data(), vh16.data(), s.head_dim, n_pos * s.head_dim, DType::F16,
                       DType::F16};
  std::vector<AttentionConfig> configs{s};
  for (simd::Isa isa : {simd::Isa::kAvx2, simd::Isa::kAvx512})
    if (simd::supported(isa)) {
      configs.push_back(s);
      configs.back().kernels = simd::attention_kernels(isa, s.head_dim);
      configs.back().f16_probabilities = true;
    }
  for (const AttentionConfig& c : configs) {
    ThreadPool prompt_pool(3);
    std::vector<float> want(n_tokens * qd, kNaN), want16(n_tokens * qd, kNaN);
    attention(prompt_pool, c, q.data(), n_tokens, pos0, rows(s, k, v), want.data());
    attention(prompt_pool, c, q.data(), n_tokens, pos0, heads16, want16.data());
    ASSERT_EQ(want16, want) << "a prompt on the f16 cache";
    for (int threads : {1, 2, 4, 16}) {
      ThreadPool pool(threads);
      for (int64_t t = 0; t < n_tokens; ++t) {
        std::vector<float> a(qd, kNaN), b(qd, kNaN), a16(qd, kNaN);
        attention(pool, c, q.data() + t * qd, 1, pos0 + t, heads, a.data());
        attention(pool, c, q.data() + t * qd, 1, pos0 + t, rows(s, k, v), b.data());
        attention(pool, c, q.data() + t * qd, 1, pos0 + t, heads16, a16.data());
        for (int64_t i = 0; i < qd; ++i) {
          ASSERT_EQ(a[i], want[t * qd + i]) << "token " << t << " threads " << threads
                                            << " kernels " << (c.kernels.scores != nullptr);
          ASSERT_EQ(b[i], want[t * qd + i]) << "token " << t << " threads " << threads;
          ASSERT_EQ(a16[i], want[t * qd + i]) << "f16 cache, token " << t << " threads " << threads;
        }
      }
    }
  }
}

// Attention over a q8_0 KV cache (K alone, or K and V) is attention over the values its
// blocks hold: the cache of rows rounded through q8_0 by quant::dequantize, read as f32.
// A prompt and one-token steps, the reference loops and each SIMD set.
TEST(CpuBricks, AttentionOnAQ8_0CacheIsAttentionOnItsValues) {
  auto rng = fresh_rng();
  const AttentionConfig s{12, 2, 128};
  const int64_t n_tokens = 4, pos0 = 97, n_pos = pos0 + n_tokens;
  const int64_t qd = s.n_head * s.head_dim;
  auto k = random_vec(rng, n_pos * s.n_head_kv * s.head_dim);
  auto v = random_vec(rng, k.size());
  const auto q = random_vec(rng, n_tokens * qd);
  // Each kv head's positions together; the q8_0 blocks of each row, and their values.
  std::vector<uint8_t> k8(k.size() / 32 * 34), v8(k8.size());
  for (auto [x, x8] : {std::pair{&k, &k8}, std::pair{&v, &v8}}) {
    quant::quantize(DType::Q8_0, x->data(), x8->data(), static_cast<int64_t>(x->size()));
    quant::dequantize(DType::Q8_0, x8->data(), x->data(), static_cast<int64_t>(x->size()));
  }
  const int64_t head = n_pos * s.head_dim;
  const KvView f32{k.data(), v.data(), s.head_dim, head};
  const KvView both{k8.data(), v8.data(), s.head_dim, head, DType::Q8_0, DType::Q8_0};
  const KvView k_only{k8.data(), v.data(), s.head_dim, head, DType::Q8_0, DType::F32};
  std::vector<AttentionConfig> configs{s};
  for (simd::Isa isa : {simd::Isa::kAvx2, simd::Isa::kAvx512})
    if (simd::supported(isa)) {
      configs.push_back(s);
      configs.back().kernels = simd::attention_kernels(isa, s.head_dim);
    }
  for (const AttentionConfig& c : configs)
    for (int threads : {1, 3}) {
      ThreadPool pool(threads);
      for (int64_t t : {int64_t{-1}, int64_t{0}, n_tokens - 1}) {  // -1: the prompt
        const int64_t n = t < 0 ? n_tokens : 1, at = t < 0 ? 0 : t;
        std::vector<float> want(n * qd, kNaN), got(n * qd, kNaN), got_k(n * qd, kNaN);
        attention(pool, c, q.data() + at * qd, n, pos0 + at, f32, want.data());
        attention(pool, c, q.data() + at * qd, n, pos0 + at, both, got.data());
        attention(pool, c, q.data() + at * qd, n, pos0 + at, k_only, got_k.data());
        ASSERT_EQ(got, want) << "token " << t << " threads " << threads;
        ASSERT_EQ(got_k, want) << "q8_0 K alone, token " << t << " threads " << threads;
      }
    }
}

// An f16 KV cache's conversions in each SIMD set: quant::f32_to_fp16's bits (round to
// nearest even) on values of every f16 range (normal, subnormal, overflowing, halfway
// cases), and exact widening; 37 values, so that the sets' tails run too.
TEST(CpuBricks, SimdF16ConversionsAreTheReferenceRounding) {
  auto rng = fresh_rng();
  std::uniform_int_distribution<uint32_t> bits;
  std::vector<float> x(37);
  for (float& f : x) {
    const uint32_t u = (bits(rng) & 0x8fffffffu) | 0x30000000u;  // exponents 2^-31 .. 2^32
    std::memcpy(&f, &u, 4);
  }
  x[0] = 65520.0f;               // rounds to infinity
  x[1] = 1.0f + 1.0f / 2048;     // halfway between two f16: to the even one
  x[2] = std::ldexp(1.0f, -20);  // a subnormal f16
  int ran = 0;
  for (simd::Isa isa : {simd::Isa::kAvx2, simd::Isa::kAvx512}) {
    if (!simd::supported(isa)) continue;
    ++ran;
    const simd::AttentionKernels k = simd::attention_kernels(isa, 128);
    std::vector<uint16_t> h(x.size(), 0xffff);
    k.to_f16(x.data(), h.data(), static_cast<int64_t>(x.size()));
    std::vector<float> back(x.size(), kNaN);
    k.from_f16(h.data(), back.data(), static_cast<int64_t>(h.size()));
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_EQ(h[i], quant::f32_to_fp16(x[i])) << simd::name(isa) << " value " << x[i];
      ASSERT_EQ(back[i], quant::fp16_to_f32(h[i])) << simd::name(isa) << " value " << x[i];
    }
  }
  if (ran == 0) GTEST_SKIP() << "this processor has none of brickc's SIMD sets";
}

TEST(CpuBricks, SimdSoftmaxMatchesDouble) {
  // Scores spread over ±60 after scaling (probabilities from 1 down to e^-120, past the
  // kernel's e^-86 floor), lengths around the vector widths. Against a double softmax of the
  // same f32 scaled scores: exp within 2 ulp, the f32 x - max exact to 2^-24 |x - max|, then
  // the division (f16: rounded to f16, 2^-11 relative, 2^-25 absolute among subnormals).
  auto rng = fresh_rng();
  const float scale = 0.125f;
  int ran = 0;
  for (simd::Isa isa : {simd::Isa::kAvx2, simd::Isa::kAvx512}) {
    if (!simd::supported(isa)) continue;
    ++ran;
    const auto softmax = simd::attention_kernels(isa, 128).softmax;
    ASSERT_TRUE(softmax) << simd::name(isa);
    for (int64_t n : {1, 7, 8, 16, 17, 100, 1000}) {
      for (bool f16 : {false, true}) {
        const auto x = random_vec(rng, n, 480.0f);
        std::vector<float> p = x;
        softmax(p.data(), n, scale, f16);
        std::vector<double> e(n);
        double m = -1e300, sum = 0;
        for (int64_t j = 0; j < n; ++j) m = std::max(m, double(x[j] * scale));
        for (int64_t j = 0; j < n; ++j) sum += e[j] = std::exp(double(x[j] * scale) - m);
        for (int64_t j = 0; j < n; ++j) {
          const double want = e[j] / sum, d = std::abs(double(x[j] * scale) - m);
          const double tol = f16 ? std::ldexp(want, -11) + std::ldexp(1.0, -25)
                                 : want * (5e-7 + 1.2e-7 * d) + 1e-37;
          ASSERT_NEAR(p[j], want, tol) << simd::name(isa) << " n " << n << " j " << j << " f16 " << f16;
          if (f16) {
            EXPECT_EQ(p[j], quant::fp16_to_f32(quant::f32_to_fp16(p[j])));
          }
        }
      }
    }
  }
  if (ran == 0) GTEST_SKIP() << "this processor has none of brickc's SIMD sets";
}

TEST(CpuBricks, SwigluAndAdd) {
  auto rng = fresh_rng();
  const int64_t n = 1000;
  const auto g = random_vec(rng, n, 4.0f), u = random_vec(rng, n);
  std::vector<float> y(n, kNaN), z(n, kNaN);
  swiglu(g.data(), u.data(), y.data(), n);
  add(g.data(), u.data(), z.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    const double want = double(g[i]) / (1.0 + std::exp(-double(g[i]))) * u[i];
    EXPECT_NEAR(y[i], want, 1e-6 * std::abs(want) + 1e-7);
    EXPECT_NEAR(z[i], double(g[i]) + u[i], 1e-6 * (std::abs(g[i]) + std::abs(u[i])));
  }
}

TEST(CpuBricks, SimdSwigluMatchesDouble) {
  // Gates over ±100, past both ends of the kernels' exp clamp ([−86, 88]), lengths around
  // the vector widths. Against double: exp within 2 ulp, then a division and a product.
  auto rng = fresh_rng();
  int ran = 0;
  for (simd::Isa isa : {simd::Isa::kAvx2, simd::Isa::kAvx512}) {
    if (!simd::supported(isa)) continue;
    ++ran;
    const auto swiglu = simd::attention_kernels(isa, 128).swiglu;
    ASSERT_TRUE(swiglu) << simd::name(isa);
    for (int64_t n : {1, 7, 8, 16, 17, 1000}) {
      const auto g = random_vec(rng, n, 100.0f), u = random_vec(rng, n);
      std::vector<float> y(n, kNaN);
      swiglu(g.data(), u.data(), y.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        const double want = double(g[i]) / (1.0 + std::exp(-double(g[i]))) * u[i];
        ASSERT_NEAR(y[i], want, 5e-7 * std::abs(want) + 1e-30)
            << simd::name(isa) << " n " << n << " g " << g[i];
      }
    }
  }
  if (ran == 0) GTEST_SKIP() << "this processor has none of brickc's SIMD sets";
}

TEST(CpuBricks, ArgmaxIsTheFirstLargestOverThePool) {
  // Against std::max_element (the first largest), at sizes around the 8192-value chunks,
  // with the maximum repeated so that the first one must win across chunks and threads.
  auto rng = fresh_rng();
  for (const int64_t n : {1, 5, 8191, 8192, 8193, 40000, 151936}) {
    auto x = random_vec(rng, n);
    std::uniform_int_distribution<int64_t> at(0, n - 1);
    const int64_t first = at(rng), second = at(rng);
    x[first] = x[second] = 10.0f;
    const auto want = std::max_element(x.begin(), x.end()) - x.begin();
    for (const int threads : {1, 3}) {
      ThreadPool pool(threads);
      EXPECT_EQ(argmax(pool, x.data(), n), want) << "n " << n << ", " << threads << " threads";
    }
  }
  // A NaN is never the answer, also where it opens a chunk; all NaN gives 0.
  ThreadPool pool(2);
  std::vector<float> x(20000, 0.0f);
  x[8192] = kNaN;
  x[9000] = 1.0f;
  EXPECT_EQ(argmax(pool, x.data(), 20000), 9000);
  std::fill(x.begin(), x.end(), kNaN);
  EXPECT_EQ(argmax(pool, x.data(), 20000), 0);
}

TEST(CpuBricks, EmbedIsTheDequantizedRow) {
  auto rng = fresh_rng();
  const int64_t cols = 64, rows = 10;
  const auto wf = random_vec(rng, cols * rows);
  std::vector<uint8_t> wq(*row_bytes(DType::Q8_0, cols) * rows);
  quant::quantize(DType::Q8_0, wf.data(), wq.data(), cols * rows);
  std::vector<float> all(cols * rows), row(cols, kNaN);
  quant::dequantize(DType::Q8_0, wq.data(), all.data(), cols * rows);
  embed({DType::Q8_0, wq.data(), cols, rows, *row_bytes(DType::Q8_0, cols)}, 7, row.data());
  EXPECT_EQ(row, std::vector<float>(all.begin() + 7 * cols, all.begin() + 8 * cols));
}

}  // namespace
}  // namespace brickc::cpu
