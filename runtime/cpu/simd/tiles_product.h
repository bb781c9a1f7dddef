// The body of amx_strip_product (tiles.h) over a tile unit `Tiles` with AMX's operations:
// configure() (kTiles' shapes), zero<C>, load<T>(p, stride), dp<C, A, B> (C += A · B in
// int8 → int32, TDPBSSD: A rows × K bytes, B K/4 rows × 64, tiles.h's layout),
// store<C>(p, stride). tiles_amx.cpp runs it on the hardware; the unit test runs the same
// body on a plain C++ model of the unit, so that machines without AMX check the layouts
// and the scaling too. The f32 work is in GCC vector types, which each file compiles for
// its own instruction set.
//
// A group's product leaves the unit only through memory (a tile store, then vector loads),
// so the groups alternate between two sets of tiles: the unit multiplies the next group
// while the vector units scale the last one.
#pragma once
#include <cstdint>

#include "runtime/cpu/simd/tiles.h"

namespace brickc::cpu::simd::tile_detail {

using f32x16 = float __attribute__((vector_size(64)));
using i32x16 = int32_t __attribute__((vector_size(64)));
// The same for reading and writing memory that is only 4-byte aligned. Vectors move
// through these, not through calls or memcpy: a 64-byte vector passed by value would depend
// on the instruction set (GCC's -Wpsabi), and a copied array would not stay in registers.
using f32x16_mem = float __attribute__((vector_size(64), aligned(4), may_alias));
using i32x16_mem = int32_t __attribute__((vector_size(64), aligned(4), may_alias));
static_assert(kTileRows == 16 && kTileTokens == 16, "one f32x16 holds a tile row");

struct TileShape {
  int rows, colsb;
};
// 32-column groups in two slots (weights 0 and 2, 16 × 32 int8; activations 1 and 3, 8 rows
// of 16 tokens × 4 int8; products 4 and 5), and Q6_K's 16-column groups (6, 7).
inline constexpr TileShape kTiles[8] = {{16, 32}, {8, 64}, {16, 32}, {8, 64},
                                        {16, 64}, {16, 64}, {16, 16}, {4, 64}};

// Internal linkage: each includer compiles these for its own instruction set. They return
// the 4-byte-aligned type: a reference to f32x16 would let the compiler assume 64 bytes
// (aligned AVX-512 loads, which fault on a vector's 16-byte-aligned heap block).
namespace {
const i32x16_mem& row_of(const int32_t* c, int m) {
  return *reinterpret_cast<const i32x16_mem*>(c + kTileTokens * m);
}
const f32x16_mem& tokens_of(const float* p) { return *reinterpret_cast<const f32x16_mem*>(p); }
void store_rows(const f32x16* acc, float* out) {
  #pragma GCC unroll 16
  for (int m = 0; m < kTileRows; ++m)
    *reinterpret_cast<f32x16_mem*>(out + kTileTokens * m) = acc[m];
}
}  // namespace

// Each group's product is stored and scaled by the group's weight and activation scales.
template <class T>
void strip_product(const TileStrip& w, const TileActivations& x, int64_t tile, float* out) {
  T::configure();
  f32x16 acc[kTileRows] = {};  // local, so that it stays in registers
  const int k = w.group;
  const int64_t groups = w.cols / k, groups32 = x.groups();
  const int8_t* xq = x.q.data() + tile * x.cols * kTileTokens;
  const float* xd = x.d.data() + tile * groups32 * kTileTokens;
  const float* xs = x.s.data() + tile * groups32 * kTileTokens;
  alignas(64) int32_t c[2][kTileRows * kTileTokens];  // group g's product is in c[g % 2]
  auto multiply = [&]<int Slot>(int64_t g) {
    constexpr int kC = 4 + Slot;
    const int8_t* a = w.q.data() + g * k;
    const int8_t* b = xq + g * k * kTileTokens;
    T::template zero<kC>();
    if (k == 32) {
      T::template load<2 * Slot>(a, w.cols);
      T::template load<2 * Slot + 1>(b, 64);
      T::template dp<kC, 2 * Slot, 2 * Slot + 1>();
    } else {
      T::template load<6>(a, w.cols);
      T::template load<7>(b, 64);
      T::template dp<kC, 6, 7>();
    }
    T::template store<kC>(c[Slot], 64);
  };
  multiply.template operator()<0>(0);
  for (int64_t g = 0; g < groups; ++g) {
    // The next group is multiplied in the other slot before this one is scaled (in the
    // loop's body, not a function, so that acc stays in registers).
    if (g + 1 < groups) {
      if (g % 2 == 0)
        multiply.template operator()<1>(g + 1);
      else
        multiply.template operator()<0>(g + 1);
    }
    const int32_t* cg = c[g % 2];
    const int64_t g32 = g * k / 32;  // the activations' 32-column group
    const f32x16 dx = tokens_of(xd + kTileTokens * g32);
    #pragma GCC unroll 16
    for (int m = 0; m < kTileRows; ++m)
      acc[m] += __builtin_convertvector(row_of(cg, m), f32x16) * (dx * w.scale[m * groups + g]);
    // A minimum meets the activations' sums once per 32 columns (k is 32 for all such).
    if (!w.bias.empty()) {
      const f32x16 s = tokens_of(xs + kTileTokens * g32);
      #pragma GCC unroll 16
      for (int m = 0; m < kTileRows; ++m) acc[m] += s * w.bias[m * groups32 + g32];
    }
  }
  store_rows(acc, out);
}

}  // namespace brickc::cpu::simd::tile_detail
