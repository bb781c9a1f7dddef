// Weight rows repacked eight at a time for the int8 engine's GEMM kernels (llama.cpp repacks
// its CPU GEMM operands the same way): one SIMD register holds the same four columns of
// eight rows, so each activation value is broadcast once for eight rows and the kernel's
// lanes are rows, with no horizontal sums. Only formats and instruction sets with such a
// kernel are repacked; the others keep their GGUF blocks (simd/qdot.h).
#pragma once
#include <cstdint>

#include "ir/dtype.h"
#include "runtime/cpu/simd/qdot.h"

namespace brickc::cpu::simd {

// The layouts, per group of 8 rows and block (256 columns for Q4_K, 32 for the others); in
// each, a 32-byte register's byte 4r + i is column c + i of row r for a column quad c:
// Q4_K, 1,184 bytes (the 8 GGUF blocks are 1,152: the 6-bit scales and mins are widened to
// bytes so that the kernel picks them with one shuffle):
//   d[8], dmin[8] as f16 (row r at index r)
//   scales[8][8], mins[8][8]  (u8, [sub-block j][row r])
//   qs[8][4][32]: sub-block j, column quad pair p: byte 4r + i holds column 32j + 8p + i of
//   row r in its low nibble and column 32j + 8p + 4 + i in its high nibble.
// Q5_0, 176 bytes (= 8 × 22): d[8] f16; qh[32]: bit k of byte 4r + i is the fifth bit of
//   column 4k + i of row r; qs[4][32]: pair p as for Q4_K (columns 8p + i and 8p + 4 + i).
// Q8_0, 272 bytes (= 8 × 34): d[8] f16; qs[8][32]: quad k, byte 4r + i = column 4k + i.
// Q6_K, 1,680 bytes (= 8 × 210), codes c = q + 32 in 0..63:
//   d[8] f16; scales[16][8] (i8, [sub-block of 16 columns][row])
//   then per unit u of 32 columns, 192 bytes (a unit's bytes together: with the low and the
//   top bits in separate arrays, a kernel streaming from memory ran at a quarter the speed):
//     qs[4][32]: low 4 bits of c, pair p as for Q4_K (columns 32u + 8p + i and 32u + 8p + 4 + i)
//     qh[2][32]: top 2 bits of c, half h: bits 2k, 2k + 1 of byte 4r + i are those of column
//     32u + 16h + 4k + i.
inline constexpr int kRows8 = 8;
inline constexpr uint64_t kQ4KRows8Bytes = 1184;
inline constexpr uint64_t kQ6KRows8Bytes = 1680;

// out[t·8 + r] = Σ row r · x_t over n columns for t < nt (1 <= nt <= kMaxTokens): w one group
// of 8 repacked rows (its super-blocks in order), x as for DotFn.
using Rows8Fn = void (*)(const uint8_t* w, const QActivations& x, int nt, int64_t n, float* out);

// The kernel for `weight` on `isa`, or nullptr where that pair keeps GGUF rows.
Rows8Fn rows8_kernel(DType weight, Isa isa);
Rows8Fn avx2_rows8_kernel(DType weight);    // qdot_avx2.cpp
Rows8Fn avx512_rows8_kernel(DType weight);  // qdot_avx512.cpp

// Bytes of `rows` rows of `cols` columns repacked; 0 where they have no repacked layout (a
// format without one, rows not a multiple of 8, columns not of whole super-blocks).
uint64_t rows8_bytes(DType weight, int64_t rows, int64_t cols);

// Repacks `rows` GGUF rows of `weight` (row_bytes apart) into dst (rows8_bytes long).
void repack_rows8(DType weight, const uint8_t* src, int64_t rows, int64_t cols, uint8_t* dst);

}  // namespace brickc::cpu::simd
