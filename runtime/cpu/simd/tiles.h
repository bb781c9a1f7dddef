// The int8 engine's prompt-step products on AMX tiles (Intel's tile matrix unit, which
// multiplies a 16 × K int8 tile by a K × 16 one into 16 × 16 int32 in one instruction):
// 16 weight rows, unpacked to int8 with their scales (a TileStrip), times 16 tokens'
// activations, laid out as the tile unit reads them (TileActivations). Every weight format
// of the int8 engine has a strip; sub-blocks whose scales differ are multiplied separately
// and scaled in f32, as in the dot-product kernels (simd/qdot.h). Decode steps keep those.
#pragma once
#include <cstdint>
#include <vector>

#include "ir/dtype.h"

namespace brickc::cpu::simd {

inline constexpr int kTileRows = 16;    // weight rows per strip
inline constexpr int kTileTokens = 16;  // tokens per activation tile

// The prompt's activations in tiles of kTileTokens tokens (the last padded with zeros),
// quantized per token to activation_type(weight) as the dot-product kernels see them. In
// tile i, columns 4k .. 4k + 3 of token n are bytes 64k + 4n .. (the tile unit's
// "VNNI" layout of its second operand), and for each 32-column group g, d holds token n's
// scale at 16g + n and s that scale times the sum of the group's 32 quants.
struct TileActivations {
  DType type = DType::F32;
  int64_t cols = 0, n_tokens = 0;
  std::vector<int8_t> q;
  std::vector<float> d, s;

  int64_t tiles() const { return (n_tokens + kTileTokens - 1) / kTileTokens; }
  int64_t groups() const { return cols / 32; }
  // Sized for n_tokens tokens of cols columns, the padding tokens zeroed.
  void reset(DType act, int64_t cols, int64_t n_tokens);
  // Token t's values, already quantized to `type` (row_bytes(type, cols) bytes).
  void put(int64_t t, const uint8_t* row);
  // Token t's cols values, quantized as quant::quantize would: Q8_K straight into the
  // tiles in SIMD (the same bytes; the unit test compares them), Q8_0 through put.
  void quantize(int64_t t, const float* x);

 private:
  // Where token t's entries of group 0 are in its tile; group g's are 8·g rows of 64
  // bytes, and 16·g floats, further.
  struct Slots {
    int8_t* q;
    float* d;
    float* s;
  };
  Slots slots(int64_t t);
};

// kTileRows weight rows (fewer at a matrix's end: the rest are zeros) as int8, row-major
// with `cols` columns, and per row and group of `group` columns (32, or 16 for Q6_K) the
// scale of that group's integer dot product; for formats with a minimum (Q4_1, Q5_1,
// Q4_K, Q5_K), per row and 32-column group the factor of the activations' sum.
struct TileStrip {
  int64_t cols = 0;
  int group = 32;
  std::vector<int8_t> q;
  std::vector<float> scale, bias;  // [row][group], [row][cols / 32] (empty: no minimum)
};

// Every format of the int8 engine (qdot.h's activation_type not F32) has a strip.
void unpack_strip(DType weight, const uint8_t* rows, uint64_t row_bytes, int n_rows,
                  int64_t cols, TileStrip& strip);
// The same strip from rows repacked eight at a time (rows8.h), which is the one copy of a
// matrix where this processor's decode kernels have that layout: groups points at the
// group of 8 holding the strip's first row; n_rows is a multiple of 8.
void unpack_strip_rows8(DType weight, const uint8_t* groups, int n_rows, int64_t cols,
                        TileStrip& strip);

// Whether this processor and OS run tiles: cpuid, and Linux granting the process the tile
// state (arch_prctl), asked once.
bool amx_usable();

// out[m·kTileTokens + n] = Σ strip row m · token n of activation tile `tile`, for every m
// < kTileRows and n < kTileTokens. Only where amx_usable().
void amx_strip_product(const TileStrip& w, const TileActivations& x, int64_t tile, float* out);

}  // namespace brickc::cpu::simd
