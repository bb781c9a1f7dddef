#include "runtime/cpu/simd/attention.h"

namespace brickc::cpu::simd {

AttentionKernels attention_kernels(Isa isa, int64_t head_dim) {
  switch (isa) {
    case Isa::kAvx2: return avx2_attention_kernels(head_dim);
    case Isa::kAvx512:
    case Isa::kAmx: return avx512_attention_kernels(head_dim);
    default: return {};
  }
}

}  // namespace brickc::cpu::simd
