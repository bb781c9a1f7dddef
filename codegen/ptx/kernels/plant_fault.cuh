// A deliberately wrong kernel, for showing that --verify catches one (`brickc run
// --plant-fault`): launched as the last kernel of a brick, it corrupts the brick's first
// result the way a bug would, one element far from its value.
#pragma once
#include "common.cuh"

enum FaultElem { kFaultF32 = 0, kFaultF16 = 1, kFaultQ8 = 2, kFaultKey = 3 };

// Slots: 0 the value, 1 step, 2 elements per KV-cache position (0: not a cache), 3 trace.
// One block of one warp.
template <int Elem>
__device__ void plant_fault(const KArgs& a) {
  kernel_begin();
  Trace trace(reinterpret_cast<u64*>(a.p[3]));
  if (threadIdx.x == 0) {
    const Step* s = reinterpret_cast<const Step*>(a.p[1]);
    const long long at = static_cast<long long>(a.p[2]) * s->pos;  // a cache: the row written
    if (Elem == kFaultF32) {
      float* x = reinterpret_cast<float*>(a.p[0]) + at;
      *x += 1000.0f * (1.0f + fabsf(*x));
    } else if (Elem == kFaultF16) {
      u16* x = reinterpret_cast<u16*>(a.p[0]) + at;
      *x = f2h(h2f(*x) + 1000.0f);
    } else if (Elem == kFaultQ8) {
      i8* q = reinterpret_cast<i8*>(a.p[0]);
      *q = *q >= 0 ? -127 : 127;
    } else {
      u64* key = reinterpret_cast<u64*>(a.p[0]);
      *key -= 1;  // the low half is ~token: one token further
    }
  }
  trace.end();
}
