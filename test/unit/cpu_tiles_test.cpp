// The prompt-step products on tiles (runtime/cpu/simd/tiles.h) against the portable
// dot-product kernels on the same blocks: 20 rows (a full strip and one of 4) times 20
// tokens (a full tile and one of 4) of every format. The body runs on a plain C++ model of
// AMX's TDPBSSD everywhere, so that the layouts and the scaling are checked on machines
// without AMX, and on the tile unit itself where this processor and OS have one.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "frontend/quant/quant.h"
#include "runtime/cpu/simd/qdot.h"
#include "runtime/cpu/simd/rows8.h"
#include "runtime/cpu/simd/tiles.h"
#include "runtime/cpu/simd/tiles_product.h"

namespace brickc::cpu::simd {
namespace {

// AMX as the ISA reference defines it, for one thread: tiles of kTiles' shapes (rows of up
// to 64 bytes), TDPBSSD c[m][n] += Σ_k a[m][k] · b[k / 4][4n + k % 4], and the shape
// checks the hardware makes (it faults where the model records a failure).
struct ModelTiles {
  // On the heap: an 8 KB array in .bss shifted the sanitizer build's layout so that
  // clang 14's LeakSanitizer crashed scanning TLS at exit in the NVRTC tests (a runtime
  // bug, not a leak; it passed again with the tiles here).
  static inline std::vector<std::array<uint8_t, 16 * 64>> tiles =
      std::vector<std::array<uint8_t, 16 * 64>>(8);

  static tile_detail::TileShape shape(int t) { return tile_detail::kTiles[t]; }
  static void configure() {
    for (auto& t : tiles) t.fill(0);
  }
  template <int C>
  static void zero() {
    tiles[C].fill(0);
  }
  template <int T>
  static void load(const void* p, int64_t stride) {
    for (int r = 0; r < shape(T).rows; ++r)
      std::memcpy(tiles[T].data() + 64 * r, static_cast<const uint8_t*>(p) + stride * r,
                  shape(T).colsb);
  }
  template <int C>
  static void store(void* p, int64_t stride) {
    for (int r = 0; r < shape(C).rows; ++r)
      std::memcpy(static_cast<uint8_t*>(p) + stride * r, tiles[C].data() + 64 * r, shape(C).colsb);
  }
  template <int C, int A, int B>
  static void dp() {
    const auto a = shape(A), b = shape(B), c = shape(C);
    if (a.rows != c.rows || a.colsb != 4 * b.rows || b.colsb != c.colsb)
      ADD_FAILURE() << "tdpbssd on tiles of mismatched shapes";
    for (int m = 0; m < c.rows; ++m)
      for (int n = 0; n < c.colsb / 4; ++n) {
        int32_t s;
        std::memcpy(&s, tiles[C].data() + 64 * m + 4 * n, 4);
        for (int k = 0; k < a.colsb; ++k)
          s += int32_t{static_cast<int8_t>(tiles[A][64 * m + k])} *
               int32_t{static_cast<int8_t>(tiles[B][64 * (k / 4) + 4 * n + k % 4])};
        std::memcpy(tiles[C].data() + 64 * m + 4 * n, &s, 4);
      }
  }
};

constexpr int64_t kCols = 512;  // two K-quant super-blocks
constexpr int kRows = kTileRows + 4, kTokens = kTileTokens + 4;
const DType kFormats[] = {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                          DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K};

using Product = void (*)(const TileStrip&, const TileActivations&, int64_t, float*);

// Every (row, token) of the product against portable_kernel, within 1e-5 of Σ|w·x| (the
// tolerance of the SIMD kernels' test, cpu_qdot_test.cpp).
void check(Product product, const char* what) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << what << ", seed " << seed);
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  for (DType t : kFormats) {
    SCOPED_TRACE(std::string(name(t)));
    // Weights with an offset, so that the minimums matter.
    std::vector<float> wf(kRows * kCols), xf(kTokens * kCols);
    for (auto& v : wf) v = 0.3f + g(rng);
    for (auto& v : xf) v = g(rng);
    const uint64_t wrow = *row_bytes(t, kCols);
    std::vector<uint8_t> w(wrow * kRows);
    for (int r = 0; r < kRows; ++r)
      quant::quantize(t, wf.data() + r * kCols, w.data() + wrow * r, kCols);
    const DType a = activation_type(t);
    const uint64_t xrow = *row_bytes(a, kCols);
    std::vector<uint8_t> xq(xrow * kTokens);
    TileActivations x;
    x.reset(a, kCols, kTokens);
    for (int n = 0; n < kTokens; ++n) {
      quant::quantize(a, xf.data() + n * kCols, xq.data() + xrow * n, kCols);
      x.put(n, xq.data() + xrow * n);
    }
    std::vector<float> wd(kCols), xd(kCols);
    TileStrip strip;
    for (int r0 = 0; r0 < kRows; r0 += kTileRows) {
      const int nr = std::min(kTileRows, kRows - r0);
      unpack_strip(t, w.data() + wrow * r0, wrow, nr, kCols, strip);
      for (int64_t tile = 0; tile < x.tiles(); ++tile) {
        std::vector<float> out(kTileRows * kTileTokens, NAN);
        product(strip, x, tile, out.data());
        for (int m = 0; m < kTileRows; ++m)
          for (int n = 0; n < kTileTokens; ++n) {
            const int r = r0 + m, k = static_cast<int>(tile) * kTileTokens + n;
            const float got = out[m * kTileTokens + n];
            if (r >= kRows || k >= kTokens) {  // padding: zero rows or zero tokens
              EXPECT_EQ(got, 0.0f) << "row " << r << " token " << k;
              continue;
            }
            // The portable kernel on one token (pitch 1: the row as quantized; it reads the
            // Q8_0 scales from the blocks).
            float want = NAN;
            portable_kernel(t)(w.data() + wrow * r, {xq.data() + xrow * k, nullptr, 1}, 1, kCols,
                               &want);
            quant::dequantize(t, w.data() + wrow * r, wd.data(), kCols);
            quant::dequantize(a, xq.data() + xrow * k, xd.data(), kCols);
            double abs = 0;
            for (int64_t i = 0; i < kCols; ++i) abs += std::fabs(double{wd[i]} * xd[i]);
            EXPECT_NEAR(got, want, 1e-5 * abs) << "row " << r << " token " << k;
          }
      }
    }
  }
}

// TileActivations::quantize against quant::quantize then put, byte for byte: random rows,
// a row of zeros, a largest magnitude held by both signs (the first sets the scale) and
// values on the rounding boundaries of the reference's scale.
TEST(CpuTiles, QuantizedTokensAreTheReferenceBytes) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 2.0f);
  constexpr int64_t kCols = 768, kTokens = 21;
  std::vector<float> x(kCols * kTokens);
  for (auto& v : x) v = g(rng);
  std::fill(x.begin() + kCols, x.begin() + 2 * kCols, 0.0f);  // token 1: zeros
  x[2 * kCols + 3] = -9.0f, x[2 * kCols + 200] = 9.0f;        // token 2: -9 first
  for (int j = 0; j < 256; ++j) x[3 * kCols + j] = (j - 128) * 0.5f;  // token 3: halves
  for (DType a : {DType::Q8_K, DType::Q8_0}) {
    SCOPED_TRACE(std::string(name(a)));
    const uint64_t row = *row_bytes(a, kCols);
    std::vector<uint8_t> q(row);
    TileActivations want, got;
    want.reset(a, kCols, kTokens);
    got.reset(a, kCols, kTokens);
    for (int64_t t = 0; t < kTokens; ++t) {
      quant::quantize(a, x.data() + t * kCols, q.data(), kCols);
      want.put(t, q.data());
      got.quantize(t, x.data() + t * kCols);
    }
    EXPECT_EQ(got.q, want.q);
    EXPECT_EQ(got.d, want.d);
    EXPECT_EQ(got.s, want.s);
  }
}

// A strip read from rows repacked for the dot-product kernels (rows8.h) holds the values
// of the strip read from the same rows' GGUF blocks, exactly: 24 rows of each format with a
// repacked layout, i.e. a full strip and one of 8 rows (the rest zeros).
TEST(CpuTiles, StripsOfRepackedRowsAreThoseOfTheGgufRows) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  constexpr int kPacked = 3 * kRows8;
  int ran = 0;
  for (DType t : kFormats) {
    const uint64_t packed_bytes = rows8_bytes(t, kPacked, kCols);
    if (packed_bytes == 0) continue;
    ++ran;
    SCOPED_TRACE(std::string(name(t)));
    std::vector<float> wf(kPacked * kCols);
    for (auto& v : wf) v = 0.3f + g(rng);
    const uint64_t wrow = *row_bytes(t, kCols);
    std::vector<uint8_t> w(wrow * kPacked), packed(packed_bytes);
    for (int r = 0; r < kPacked; ++r)
      quant::quantize(t, wf.data() + r * kCols, w.data() + wrow * r, kCols);
    repack_rows8(t, w.data(), kPacked, kCols, packed.data());
    const uint64_t group = rows8_bytes(t, kRows8, kCols);
    for (int r0 = 0; r0 < kPacked; r0 += kTileRows) {
      const int nr = std::min(kTileRows, kPacked - r0);
      TileStrip want, got;
      unpack_strip(t, w.data() + wrow * r0, wrow, nr, kCols, want);
      unpack_strip_rows8(t, packed.data() + group * (r0 / kRows8), nr, kCols, got);
      EXPECT_EQ(got.group, want.group) << "rows from " << r0;
      EXPECT_EQ(got.q, want.q) << "rows from " << r0;
      EXPECT_EQ(got.scale, want.scale) << "rows from " << r0;
      EXPECT_EQ(got.bias, want.bias) << "rows from " << r0;
    }
  }
  EXPECT_EQ(ran, 4) << "Q4_K, Q6_K, Q5_0 and Q8_0 have repacked layouts";
}

TEST(CpuTiles, ModelOfTheTileUnitMatchesPortable) {
  check(tile_detail::strip_product<ModelTiles>, "the C++ model of the tile unit");
}

TEST(CpuTiles, AmxMatchesPortable) {
  if (!amx_usable()) GTEST_SKIP() << "this processor or OS has no AMX tiles";
  std::printf("  checking the AMX tile unit\n");
  check(amx_strip_product, "AMX");
}

}  // namespace
}  // namespace brickc::cpu::simd
