// Inline PTX for the tensor-core kernels (gemm.cuh, flash_attention.cuh, attention.cuh):
// ldmatrix fragment loads, plain 16-byte shared loads, and the m16n8k16 and m16n8k8 f16 MMAs
// with f32 accumulators (their cp.async copies are in common.cuh, shared with the matvec
// ring). Not a tiling library: each kernel owns its tile shapes and swizzles.
//
// Fragment layouts of mma.sync.m16n8k16.row.col (PTX ISA, "Matrix fragments for
// mma.m16n8k16"), with g = lane / 4 and c = lane % 4, two f16 per 32-bit register, the
// lower half holding the lower column (A, C) or lower k (B):
//   A (16x16, row): a0 (g, 2c..2c+1)  a1 (g+8, 2c..)  a2 (g, 2c+8..)  a3 (g+8, 2c+8..)
//   B (16x8, col):  b0 (k 2c..2c+1, n g)  b1 (k 2c+8.., n g)
//   C (16x8, f32):  c0, c1 (g, 2c..2c+1)  c2, c3 (g+8, 2c..2c+1)
// ldmatrix.x4 takes the row addresses of matrix i from lanes 8i..8i+7 and gives every lane
// in register i the pair (row lane/4, cols 2(lane%4)..+1) of matrix i (.trans: the pair
// (rows 2(lane%4)..+1, col lane/4)), which is exactly one fragment register above.
#pragma once
#include "common.cuh"

// volatile: the same shared address holds a new tile after every barrier, so two loads
// of it must never be merged or moved across __syncthreads.
__device__ __forceinline__ void ldmatrix_x4(u32 (&r)[4], u32 addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}
__device__ __forceinline__ void ldmatrix_x4_trans(u32 (&r)[4], u32 addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

// 16 bytes of shared memory (an A fragment pair of gemm_dq); volatile as ldmatrix.
__device__ __forceinline__ uint4 lds_u128(u32 addr) {
  uint4 v;
  asm volatile("ld.shared.v4.u32 {%0, %1, %2, %3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "r"(addr));
  return v;
}

// d += a * b for one 16x8x16 tile.
__device__ __forceinline__ void mma_16816(float (&d)[4], const u32 (&a)[4], u32 b0, u32 b1) {
  asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// d += a * b for one 16x8x8 tile: A (16x8, row) a0 (g, 2c..2c+1) a1 (g+8, 2c..), B (8x8,
// col) b (k 2c..2c+1, n g), C as above.
__device__ __forceinline__ void mma_1688(float (&d)[4], u32 a0, u32 a1, u32 b) {
  asm("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5}, {%6}, "
      "{%0, %1, %2, %3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a0), "r"(a1), "r"(b));
}

// Two f32 rounded to f16 (as f2h) in one register, lo in the lower half. (cvt's first
// source goes to the upper half.)
__device__ __forceinline__ u32 pack_f16x2(float lo, float hi) {
  u32 r;
  asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
}
