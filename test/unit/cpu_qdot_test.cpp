// The int8 dot-product kernels (runtime/cpu/simd/qdot.h): the portable kernels against the
// f32 dot product of the dequantized blocks (quant::dequantize, itself checked against the
// gguf package), and every SIMD set this processor has against the portable one on the same
// blocks, for each token count of a group.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "frontend/quant/quant.h"
#include "ir/error.h"
#include "runtime/cpu/simd/qdot.h"
#include "runtime/cpu/simd/rows8.h"

namespace brickc::cpu::simd {
namespace {

constexpr int64_t kCols = 512;  // two K-quant super-blocks, sixteen 32-element blocks
const DType kFormats[] = {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                          DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K};

struct Case {
  std::vector<uint8_t> w, x;  // one weight row; kMaxTokens quantized activation rows
  uint64_t x_row = 0;
  std::vector<float> xd;  // Q8_0 activations: each block's scale as f32
  std::vector<double> want;  // f32 dot of the dequantized values, per token
  std::vector<double> scale;  // Σ|w·x|, the size of a rounding error's context
};

Case make_case(DType t, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> wf(kCols), xf(kCols * kMaxTokens);
  // Weights with an offset, so that the _1 formats' minimum and the K-quants' mins matter.
  for (auto& v : wf) v = 0.3f + g(rng);
  for (auto& v : xf) v = g(rng);
  Case c;
  c.w.resize(*row_bytes(t, kCols));
  quant::quantize(t, wf.data(), c.w.data(), kCols);
  const DType a = activation_type(t);
  c.x_row = *row_bytes(a, kCols);
  c.x.resize(c.x_row * kMaxTokens);
  std::vector<float> wd(kCols), xd(kCols);
  quant::dequantize(t, c.w.data(), wd.data(), kCols);
  for (int k = 0; k < kMaxTokens; ++k) {
    quant::quantize(a, xf.data() + k * kCols, c.x.data() + c.x_row * k, kCols);
    if (a == DType::Q8_0)
      for (int64_t b = 0; b < kCols / 32; ++b) {
        uint16_t h;
        std::memcpy(&h, c.x.data() + c.x_row * k + 34 * b, sizeof h);
        c.xd.push_back(quant::fp16_to_f32(h));
      }
    quant::dequantize(a, c.x.data() + c.x_row * k, xd.data(), kCols);
    double s = 0, abs = 0;
    for (int64_t i = 0; i < kCols; ++i) {
      s += static_cast<double>(wd[i]) * xd[i];
      abs += std::fabs(static_cast<double>(wd[i]) * xd[i]);
    }
    c.want.push_back(s);
    c.scale.push_back(abs);
  }
  return c;
}

// The first nt tokens of c, interleaved by block as QActivations lays them out (pitch nt):
// the quants and, for Q8_0, the scales as f32 and the sums of the quants.
struct Interleaved {
  std::vector<uint8_t> q;
  std::vector<float> d;
  std::vector<int32_t> sum;
  QActivations view(int nt) const {
    if (d.empty()) return {q.data(), nullptr, nt};
    return {q.data(), d.data(), nt, sum.data()};
  }
};

Interleaved interleave(DType t, const Case& c, int nt) {
  const DType a = activation_type(t);
  const uint64_t size = info(a).block_bytes;
  const int64_t blocks = kCols / info(a).block_elems;
  Interleaved x;
  x.q.resize(size * blocks * nt);
  for (int64_t b = 0; b < blocks; ++b)
    for (int k = 0; k < nt; ++k) {
      std::memcpy(x.q.data() + size * (b * nt + k), c.x.data() + c.x_row * k + size * b, size);
      if (c.xd.empty()) continue;
      x.d.push_back(c.xd[k * blocks + b]);
      const uint8_t* block = c.x.data() + c.x_row * k + size * b;
      int32_t sum = 0;
      for (uint64_t i = 2; i < size; ++i) sum += static_cast<int8_t>(block[i]);  // after the f16 scale
      x.sum.push_back(sum);
    }
  return x;
}

std::vector<float> run(DotFn f, DType t, const Case& c, int nt) {
  const Interleaved x = interleave(t, c, nt);
  std::vector<float> out(nt, NAN);
  f(c.w.data(), x.view(nt), nt, kCols, out.data());
  return out;
}

TEST(CpuQdot, ActivationTypesAreLlamaCppsVecDotTypes) {
  // gguf-qwen2.md §3: Q8_0 for the 32-element formats, Q8_K for the K-quants.
  EXPECT_EQ(activation_type(DType::Q4_0), DType::Q8_0);
  EXPECT_EQ(activation_type(DType::Q5_1), DType::Q8_0);
  EXPECT_EQ(activation_type(DType::Q4_K), DType::Q8_K);
  EXPECT_EQ(activation_type(DType::Q6_K), DType::Q8_K);
  EXPECT_EQ(activation_type(DType::F16), DType::F32);
  EXPECT_EQ(dot_kernel(DType::F16, Isa::kPortable), nullptr);
}

TEST(CpuQdot, PortableMatchesTheDequantizedDotProduct) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  for (DType t : kFormats) {
    const Case c = make_case(t, seed);
    const auto got = run(portable_kernel(t), t, c, kMaxTokens);
    for (int k = 0; k < kMaxTokens; ++k)
      EXPECT_NEAR(got[k], c.want[k], 1e-5 * c.scale[k]) << name(t) << " token " << k;
  }
}

// Each SIMD set this machine has; the test names which ran, and skips where none does.
TEST(CpuQdot, SimdMatchesPortableOnTheSameBlocks) {
  const Isa simd[] = {Isa::kAvx2, Isa::kAvx512};
  int ran = 0;
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  for (Isa isa : simd) {
    if (!supported(isa)) continue;
    ++ran;
    std::printf("  checking the %s kernels\n", std::string(name(isa)).c_str());
    for (DType t : kFormats) {
      ASSERT_NE(dot_kernel(t, isa), nullptr) << name(isa) << " has no " << name(t) << " kernel";
      for (uint32_t rep = 0; rep < 8; ++rep) {
        const Case c = make_case(t, seed + rep);
        const auto ref = run(portable_kernel(t), t, c, kMaxTokens);
        for (int nt = 1; nt <= kMaxTokens; ++nt) {
          const auto got = run(dot_kernel(t, isa), t, c, nt);
          for (int k = 0; k < nt; ++k)
            EXPECT_NEAR(got[k], ref[k], 1e-5 * c.scale[k])
                << name(isa) << " " << name(t) << " nt " << nt << " token " << k;
        }
      }
    }
  }
  if (ran == 0) GTEST_SKIP() << "this processor has none of brickc's SIMD sets";
}

// The repacked kernels (rows8.h) on 16 rows, two groups of 8, against the portable kernel
// on the same rows in their GGUF blocks: this checks the repacking and the kernel together.
TEST(CpuQdot, RepackedRowsMatchPortableOnTheSameBlocks) {
  constexpr int kRows = 2 * kRows8;
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  int ran = 0;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    if (!supported(isa)) continue;
    for (DType t : kFormats) {
      const Rows8Fn kernel = rows8_kernel(t, isa);
      if (!kernel) continue;
      ++ran;
      std::printf("  checking the %s %s repacked kernel\n", std::string(name(isa)).c_str(),
                  std::string(name(t)).c_str());
      // Row r is case seed + r's weights; every row meets case seed's activations.
      std::vector<Case> rows;
      std::vector<uint8_t> w;
      for (int r = 0; r < kRows; ++r) {
        rows.push_back(make_case(t, seed + r));
        w.insert(w.end(), rows.back().w.begin(), rows.back().w.end());
      }
      const Case& x = rows[0];
      std::vector<uint8_t> packed(rows8_bytes(t, kRows, kCols));
      ASSERT_FALSE(packed.empty());
      repack_rows8(t, w.data(), kRows, kCols, packed.data());
      const uint64_t group = packed.size() / (kRows / kRows8);
      std::vector<float> wd(kCols), xd(kCols);
      for (int nt = 1; nt <= kMaxTokens; ++nt) {
        const Interleaved xt = interleave(t, x, nt);
        for (int g = 0; g < kRows / kRows8; ++g) {
          std::vector<float> out(nt * kRows8, NAN);
          kernel(packed.data() + group * g, xt.view(nt), nt, kCols, out.data());
          for (int r = 0; r < kRows8; ++r) {
            const Case& row = rows[static_cast<size_t>(kRows8 * g + r)];
            std::vector<float> want(nt, NAN);
            portable_kernel(t)(row.w.data(), xt.view(nt), nt, kCols, want.data());
            quant::dequantize(t, row.w.data(), wd.data(), kCols);
            for (int k = 0; k < nt; ++k) {
              quant::dequantize(activation_type(t), x.x.data() + x.x_row * k, xd.data(), kCols);
              double abs = 0;
              for (int64_t i = 0; i < kCols; ++i) abs += std::fabs(static_cast<double>(wd[i]) * xd[i]);
              EXPECT_NEAR(out[k * kRows8 + r], want[k], 1e-5 * abs)
                  << name(isa) << " " << name(t) << " nt " << nt << " row " << kRows8 * g + r
                  << " token " << k;
            }
          }
        }
      }
    }
  }
  if (ran == 0) GTEST_SKIP() << "no repacked kernel for this processor's SIMD sets";
}

TEST(CpuQdot, BestIsaIsSupported) { EXPECT_TRUE(supported(best_isa())); }

TEST(CpuQdot, ChooseIsaTakesASupportedNameOrTheWidest) {
  EXPECT_EQ(choose_isa("portable"), Isa::kPortable);
  const Isa widest = supported(Isa::kAmx)      ? Isa::kAmx
                     : supported(Isa::kAvx512) ? Isa::kAvx512
                     : supported(Isa::kAvx2)   ? Isa::kAvx2
                                               : Isa::kPortable;
  EXPECT_EQ(choose_isa(nullptr), widest);
  EXPECT_EQ(choose_isa(""), widest);
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512, Isa::kAmx}) {
    const std::string n(name(isa));
    if (supported(isa)) {
      EXPECT_EQ(choose_isa(n.c_str()), isa);
    } else {
      EXPECT_THAT([&] { choose_isa(n.c_str()); },
                  ::testing::ThrowsMessage<brickc::Error>(::testing::HasSubstr("does not support " + n)));
    }
  }
  EXPECT_THAT([] { choose_isa("sse2"); },
              ::testing::ThrowsMessage<brickc::Error>(
                  ::testing::HasSubstr("BRICKC_SIMD=sse2: expected portable, avx2, avx512vnni or amx")));
}

}  // namespace
}  // namespace brickc::cpu::simd
