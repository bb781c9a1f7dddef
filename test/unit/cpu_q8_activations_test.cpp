// The int8 engine's activation rounding (runtime/cpu/simd/q8_activations.h) against
// quant::quantize, llama.cpp's reference rounding, byte for byte: random rows, and rows
// made to hit the rules' edges (values exactly half-way between two codes, the largest
// magnitude twice with opposite signs, zero blocks, infinities).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "frontend/quant/quant.h"
#include "runtime/cpu/simd/q8_activations.h"

namespace brickc::cpu::simd {
namespace {

constexpr int64_t kCols = 1024;  // 32 Q8_0 blocks, 4 Q8_K blocks

void expect_reference_bytes(DType type, const std::vector<float>& x, const char* what) {
  const uint64_t bytes = *row_bytes(type, kCols);
  std::vector<uint8_t> want(bytes, 0xee), got(bytes, 0x11);  // different poisons
  quant::quantize(type, x.data(), want.data(), kCols);
  quantize_q8(type, x.data(), got.data(), kCols);
  for (uint64_t i = 0; i < bytes; ++i)
    ASSERT_EQ(got[i], want[i]) << name(type) << ", " << what << ": byte " << i;
}

TEST(CpuQ8Activations, BytesAreTheReferenceRounding) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (DType type : {DType::Q8_0, DType::Q8_K}) {
    std::vector<float> x(kCols);
    for (int rep = 0; rep < 50; ++rep) {
      const float scale = std::ldexp(1.0f, rep % 20 - 10);
      for (float& v : x) v = scale * normal(rng);
      expect_reference_bytes(type, x, "random");
    }
    // Every value k/2 · amax/127 for integer k: the Q8_0 products land on half-way points
    // (give or take the rounding of 1/d), which roundf takes away from zero and the Q8_K
    // trick to the even code.
    for (int64_t i = 0; i < kCols; ++i) x[i] = static_cast<float>(i % 255 - 127) * 0.5f;
    expect_reference_bytes(type, x, "half-way values");
    // The largest magnitude first negative, then positive, in every block: Q8_K scales
    // by the first.
    for (float& v : x) v = normal(rng);
    for (int64_t b = 0; b < kCols; b += 32) {
      x[b + 3] = -9.0f;
      x[b + 20] = 9.0f;
    }
    expect_reference_bytes(type, x, "tied magnitudes");
    std::fill(x.begin(), x.begin() + 512, 0.0f);
    expect_reference_bytes(type, x, "zero blocks");
    x[700] = std::numeric_limits<float>::infinity();
    x[900] = -std::numeric_limits<float>::infinity();
    expect_reference_bytes(type, x, "infinities");
  }
}

}  // namespace
}  // namespace brickc::cpu::simd
