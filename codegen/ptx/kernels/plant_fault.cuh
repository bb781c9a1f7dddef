// A deliberately wrong kernel, for showing that --verify catches one (`brickc run
// --plant-fault`): launched as the last kernel of a brick, it corrupts the brick's first
// result the way a bug would, one element far from its value.
#pragma once
#include "common.cuh"

enum FaultElem { kFaultF32 = 0, kFaultF16 = 1, kFaultQ8 = 2, kFaultKey = 3 };

// Slots: 0 the value, 1 step, 2 for a KV cache its elements per position (0: not a
// cache), for q8_1 its element count (where the scales start), 3 trace. One block.
template <int Elem, class B>
__device__ void plant_fault(const KArgs& a, const B& blk) {
  blk.begin();
  Trace trace(reinterpret_cast<u64*>(a.p[3]), blk);
  if (blk.thread == 0) {
    const Step* s = reinterpret_cast<const Step*>(a.p[1]);
    if (Elem == kFaultF32) {
      const long long at = static_cast<long long>(a.p[2]) * s->pos;  // a cache: the row written
      float* x = reinterpret_cast<float*>(a.p[0]) + at;
      *x += 1000.0f * (1.0f + fabsf(*x));
    } else if (Elem == kFaultF16) {
      const long long at = static_cast<long long>(a.p[2]) * s->pos;
      u16* x = reinterpret_cast<u16*>(a.p[0]) + at;
      *x = f2h(h2f(*x) + 1000.0f);
    } else if (Elem == kFaultQ8) {
      // The block's sum moves with its value, so the block stays consistent and only this
      // brick's check fails, not its consumer's.
      i8* q = reinterpret_cast<i8*>(a.p[0]);
      float* ds = reinterpret_cast<float*>(reinterpret_cast<u8*>(a.p[0]) + a.p[2]);
      const int to = *q >= 0 ? -127 : 127;
      ds[1] += ds[0] * static_cast<float>(to - *q);
      *q = static_cast<i8>(to);
    } else {
      u64* key = reinterpret_cast<u64*>(a.p[0]);
      *key -= 1;  // the low half is ~token: one token further
    }
  }
  trace.end();
}
